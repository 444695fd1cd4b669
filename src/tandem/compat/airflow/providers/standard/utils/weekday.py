"""``airflow.providers.standard.utils.weekday``."""

from __future__ import annotations

from tandem.sdk.operators.calendar import WeekDay

__all__ = ["WeekDay"]
