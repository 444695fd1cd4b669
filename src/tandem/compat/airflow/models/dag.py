"""``airflow.models.dag``."""

from __future__ import annotations

from tandem.sdk.dag import DAG

__all__ = ["DAG"]
