"""``airflow.providers.standard.sensors.weekday``."""

from __future__ import annotations

from tandem.sdk.sensors.timing import DayOfWeekSensor

__all__ = ["DayOfWeekSensor"]
