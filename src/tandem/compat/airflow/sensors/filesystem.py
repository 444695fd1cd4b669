"""``airflow.sensors.filesystem``."""

from __future__ import annotations

from tandem.sdk.sensors.filesystem import FileSensor

__all__ = ["FileSensor"]
