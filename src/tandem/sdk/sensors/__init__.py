"""Sensors: operators that wait for a condition, checking it every ``poke_interval``."""

from __future__ import annotations

from tandem.sdk.sensors.base import BaseSensorOperator, PokeReturnValue
from tandem.sdk.sensors.bash import BashSensor
from tandem.sdk.sensors.filesystem import FileSensor
from tandem.sdk.sensors.python import PythonSensor
from tandem.sdk.sensors.timing import DateTimeSensor, TimeDeltaSensor

__all__ = [
    "BaseSensorOperator",
    "BashSensor",
    "DateTimeSensor",
    "FileSensor",
    "PokeReturnValue",
    "PythonSensor",
    "TimeDeltaSensor",
]
