"""``airflow.sensors.external_task``."""

from __future__ import annotations

from tandem.sdk.sensors.external_task import ExternalTaskMarker, ExternalTaskSensor

__all__ = ["ExternalTaskMarker", "ExternalTaskSensor"]
