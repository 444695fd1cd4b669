"""``airflow.utils.dates``: Airflow 2's date helpers that DAG files still use."""

from __future__ import annotations

from tandem.compat.timezone import days_ago

__all__ = ["days_ago"]
