"""``airflow.models.dag``."""

from __future__ import annotations

from tandem.compat.dag import DAG

__all__ = ["DAG"]
