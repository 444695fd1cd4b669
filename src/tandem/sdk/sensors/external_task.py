"""ExternalTaskSensor: wait for tasks (or a whole run) of another DAG at the same logical date."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from tandem.exceptions import TaskError, TaskSkipped
from tandem.sdk.baseoperator import BaseOperator
from tandem.sdk.other_dags import other_dags
from tandem.sdk.sensors.base import BaseSensorOperator


class ExternalTaskSensor(BaseSensorOperator):
    """Done when the external tasks (or the run, with no task given) are in ``allowed_states``.

    :param execution_delta: look at the logical date this much earlier.
    :param execution_date_fn: ``fn(logical_date, context)`` -> the date(s) to look at.
    :param failed_states, skipped_states: states that fail or skip this task at once.
    :param check_existence: fail at once when the external DAG or tasks do not exist.
    :param external_task_group_id: not supported by Tandem (an error).
    """

    ui_color = "#4db7db"

    def __init__(self, *, external_dag_id: str, external_task_id: str | None = None,
                 external_task_ids: Collection[str] | None = None, external_task_group_id: str | None = None,
                 allowed_states: Iterable[str] | None = None, skipped_states: Iterable[str] | None = None,
                 failed_states: Iterable[str] | None = None, execution_delta: timedelta | None = None,
                 execution_date_fn: Callable[..., Any] | None = None, check_existence: bool = False,
                 poll_interval: float | None = None, **kwargs: Any) -> None:
        if poll_interval is not None:
            kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        if external_task_group_id is not None:
            self._fail(f"task '{self.task_id}': external_task_group_id is not supported by Tandem")
        if external_task_id is not None and external_task_ids:
            self._fail(f"task '{self.task_id}': give external_task_id or external_task_ids, not both")
        self.external_dag_id = external_dag_id
        self.external_task_ids = [external_task_id] if external_task_id else list(external_task_ids or []) or None
        self.allowed_states = [str(s) for s in allowed_states or ["success"]]
        self.skipped_states = [str(s) for s in skipped_states or []]
        self.failed_states = [str(s) for s in failed_states or []]
        self.execution_delta, self.execution_date_fn = execution_delta, execution_date_fn
        self.check_existence = check_existence

    def _dates(self, context: dict[str, Any]) -> list[datetime]:
        logical_date: datetime = context["logical_date"]
        if self.execution_delta is not None:
            return [logical_date - self.execution_delta]
        if self.execution_date_fn is not None:
            dates = self.execution_date_fn(logical_date, context)
            return list(dates) if isinstance(dates, (list, tuple)) else [dates]
        return [logical_date]

    def poke(self, context: dict[str, Any]) -> bool:
        backend = other_dags()
        if self.check_existence and not backend.dag_exists(self.external_dag_id, self.external_task_ids):
            raise TaskError(f"the external DAG {self.external_dag_id} (or its tasks) does not exist")
        dates = self._dates(context)
        states = backend.states(self.external_dag_id, dates, self.external_task_ids)
        expected = len(dates) * len(self.external_task_ids or [None])
        if self.failed_states and any(s in self.failed_states for s in states):
            raise TaskError(f"the external tasks of {self.external_dag_id} failed ({states})")
        if self.skipped_states and any(s in self.skipped_states for s in states):
            raise TaskSkipped(f"the external tasks of {self.external_dag_id} were skipped ({states})")
        return sum(s in self.allowed_states for s in states) == expected


class ExternalTaskMarker(BaseOperator):
    """Marks that clearing this task should clear ``external_task_id`` in ``external_dag_id``.

    A *recursive* clear (the clear dialog's option, ``recursive`` in the API) follows it to the
    other DAG's run at the same logical date, up to ``recursion_depth`` markers deep; running,
    the marker does nothing.
    """

    ui_color = "#4db7db"

    def __init__(self, *, external_dag_id: str, external_task_id: str, logical_date: str | datetime | None = None,
                 recursion_depth: int = 10, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.external_dag_id, self.external_task_id = external_dag_id, external_task_id
        self.logical_date, self.recursion_depth = logical_date, recursion_depth

    @property
    def clears_external(self) -> dict[str, Any]:
        """What a recursive clear of this task also clears (serialized with the task)."""
        return {"dag_id": self.external_dag_id, "task_id": self.external_task_id,
                "recursion_depth": self.recursion_depth}

    def execute(self, context: dict[str, Any]) -> None:
        return None
