"""How a task's priority weight adds up (Airflow's ``WeightRule``)."""

from __future__ import annotations

from enum import StrEnum


class WeightRule(StrEnum):
    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"
    ABSOLUTE = "absolute"
