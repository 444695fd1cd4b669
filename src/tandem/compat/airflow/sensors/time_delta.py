"""``airflow.sensors.time_delta``."""

from __future__ import annotations

from tandem.sdk.sensors.timing import TimeDeltaSensor

__all__ = ["TimeDeltaSensor"]
