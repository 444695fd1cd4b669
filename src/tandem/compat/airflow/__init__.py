"""Apache Airflow's top-level ``airflow`` package, as Tandem's compatibility layer provides it."""

from __future__ import annotations

from tandem.compat.dag import DAG

# The Airflow API these shims follow; DAG files sometimes branch on it.
__version__ = "3.3.2"

__all__ = ["DAG", "__version__"]
