"""``airflow.providers.standard.operators.datetime``."""

from __future__ import annotations

from tandem.sdk.operators.calendar import BranchDateTimeOperator

__all__ = ["BranchDateTimeOperator"]
