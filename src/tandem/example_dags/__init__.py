"""DAGs shipped with Tandem, loaded unless ``core.load_examples = false``."""
