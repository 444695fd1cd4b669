"""``airflow.decorators``: Airflow 2's TaskFlow decorators."""

from __future__ import annotations

from tandem.compat.dag import dag
from tandem.sdk.decorators import setup, task, teardown
from tandem.sdk.task_group_decorator import task_group

__all__ = ["dag", "setup", "task", "task_group", "teardown"]
