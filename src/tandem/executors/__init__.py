"""Executors: hand task tries to something that runs them.

The contract (``base.py``) is narrow: start, submit workloads, poll events, adopt orphans,
shut down. Every executor runs the same task runner (``tandem.runner``); the runner, not the
executor, claims and finishes the try in the database (ARCHITECTURE.md, invariant 4).
"""
