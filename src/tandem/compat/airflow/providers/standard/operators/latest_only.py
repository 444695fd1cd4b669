"""``airflow.providers.standard.operators.latest_only``."""

from __future__ import annotations

from tandem.sdk.operators.calendar import LatestOnlyOperator

__all__ = ["LatestOnlyOperator"]
