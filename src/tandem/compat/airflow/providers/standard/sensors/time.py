"""``airflow.providers.standard.sensors.time``."""

from __future__ import annotations

from tandem.sdk.sensors.timing import TimeSensor

__all__ = ["TimeSensor"]
