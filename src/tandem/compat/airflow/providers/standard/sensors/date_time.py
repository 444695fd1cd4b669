"""``airflow.providers.standard.sensors.date_time``."""

from __future__ import annotations

from tandem.sdk.sensors.timing import DateTimeSensor

__all__ = ["DateTimeSensor"]
