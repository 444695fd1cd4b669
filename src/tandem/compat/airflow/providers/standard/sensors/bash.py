"""``airflow.providers.standard.sensors.bash``."""

from __future__ import annotations

from tandem.sdk.sensors.bash import BashSensor

__all__ = ["BashSensor"]
