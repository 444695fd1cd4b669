"""``airflow.sensors.python``."""

from __future__ import annotations

from tandem.sdk.sensors.python import PythonSensor

__all__ = ["PythonSensor"]
