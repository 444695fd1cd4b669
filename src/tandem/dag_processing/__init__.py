"""DAG processing: find DAG files, import each in an isolated child, store what they define.

The DB is the output (ARCHITECTURE.md, "DAG distribution"): serialized DAGs, their source
and import errors, so schedulers and API servers never import DAG files. Only the task
runner imports a DAG file in-process, through :func:`tandem.dag_processing.parser.load_dag`.

Modules: ``discovery`` (which files), ``parser`` (import one file safely), ``store``
(DB writes), ``processor`` (the loop).
"""
