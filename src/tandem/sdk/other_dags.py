"""What a task may do with other DAGs' runs: trigger one, read run and task states.

Operators such as TriggerDagRunOperator and ExternalTaskSensor need the metadata database,
which the SDK cannot import; the runner installs an :class:`OtherDagsBackend` with
:func:`set_other_dags_backend` before the task executes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class RunAlreadyExists(Exception):
    """The run to trigger exists already (same run id or logical date)."""


class OtherDagsBackend(Protocol):
    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any], logical_date: datetime) -> str:
        """Create a queued manual run; raise :class:`RunAlreadyExists` when it exists."""
        ...

    def reset(self, dag_id: str, run_id: str) -> None:
        """Clear every task instance of the run so it runs again."""
        ...

    def run_state(self, dag_id: str, run_id: str) -> str | None: ...

    def states(self, dag_id: str, logical_dates: list[datetime], task_ids: list[str] | None) -> list[str]:
        """States of the runs at ``logical_dates`` (``task_ids`` None) or of those tasks in them."""
        ...

    def dag_exists(self, dag_id: str, task_ids: list[str] | None) -> bool: ...


_backend: OtherDagsBackend | None = None


def set_other_dags_backend(backend: OtherDagsBackend | None) -> None:
    global _backend
    _backend = backend


def other_dags() -> OtherDagsBackend:
    if _backend is None:
        raise RuntimeError("this operator needs the metadata database, which is not available here")
    return _backend
