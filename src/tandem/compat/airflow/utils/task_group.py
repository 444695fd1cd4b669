"""``airflow.utils.task_group``."""

from __future__ import annotations

from tandem.sdk.task_group import TaskGroup

__all__ = ["TaskGroup"]
