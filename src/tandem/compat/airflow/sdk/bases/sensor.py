"""``airflow.sdk.bases.sensor``."""

from __future__ import annotations

from tandem.sdk.sensors.base import BaseSensorOperator, PokeReturnValue

__all__ = ["BaseSensorOperator", "PokeReturnValue"]
