"""``airflow.utils.state``."""

from __future__ import annotations

from tandem.state import DagRunState, TaskInstanceState

State = TaskInstanceState

__all__ = ["DagRunState", "State", "TaskInstanceState"]
