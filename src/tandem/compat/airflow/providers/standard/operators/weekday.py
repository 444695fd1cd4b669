"""``airflow.providers.standard.operators.weekday``."""

from __future__ import annotations

from tandem.sdk.operators.calendar import BranchDayOfWeekOperator

__all__ = ["BranchDayOfWeekOperator"]
