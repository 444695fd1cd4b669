"""Compatibility layers that let DAG files written for other orchestrators run in Tandem.

:mod:`tandem.compat.importer` maps the ``airflow`` namespace to the shim modules in
:mod:`tandem.compat.airflow`; see ``docs/airflow.md``.
"""
