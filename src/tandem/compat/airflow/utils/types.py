"""``airflow.utils.types``."""

from __future__ import annotations

from enum import StrEnum


class DagRunType(StrEnum):
    """The ``run_type`` values of DAG runs (``dag_run.run_type``)."""

    BACKFILL_JOB = "backfill"
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    ASSET_TRIGGERED = "asset_triggered"


__all__ = ["DagRunType"]
