"""Operators whose result decides which downstream tasks run.

They only *record* the decision as an XCom; the scheduler reads it and skips the
tasks that were not chosen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tandem.sdk.baseoperator import BaseOperator
from tandem.sdk.operators.python import PythonOperator

BRANCH_XCOM_KEY = "branch_followed"
SHORT_CIRCUIT_XCOM_KEY = "short_circuit"


class BranchMixin:
    """Validates and records a branch decision (list of direct downstream task ids)."""

    task_id: str
    downstream_task_ids: set[str]
    dag: Any
    is_branch = True

    def _group_roots(self, item: Any) -> list[Any]:
        """A task group's id stands for its tasks directly downstream of the branch (as in Airflow)."""
        groups = {g.group_id: g for g in self.dag.task_group.iter_groups()} if self.dag is not None else {}
        if isinstance(item, str) and item not in self.downstream_task_ids and item in groups:
            return sorted(t.task_id for t in groups[item].dependency_roots() if t.task_id in self.downstream_task_ids)
        return [item]

    def follow_branches(self, context: dict[str, Any], result: Any) -> list[str]:
        if result is None:
            chosen: list[str] = []
        elif isinstance(result, str):
            chosen = [result]
        elif isinstance(result, Iterable):
            chosen = list(result)
        else:
            raise TypeError(
                f"branch task '{self.task_id}' must return a task id or a list of task ids, got {result!r}"
            )
        chosen = [task_id for item in chosen for task_id in self._group_roots(item)]
        bad = [t for t in chosen if not isinstance(t, str) or t not in self.downstream_task_ids]
        if bad:
            raise ValueError(
                f"branch task '{self.task_id}' returned {bad!r}, which are not direct downstream tasks "
                f"(direct downstream: {sorted(self.downstream_task_ids)})"
            )
        context["ti"].xcom_push(key=BRANCH_XCOM_KEY, value=chosen)
        return chosen


class BaseBranchOperator(BranchMixin, BaseOperator):
    """A branch whose choice is :meth:`choose_branch`; subclasses implement it."""

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str] | None:
        raise NotImplementedError(f"{type(self).__name__} must implement choose_branch()")

    def execute(self, context: dict[str, Any]) -> Any:
        chosen = self.choose_branch(context)
        self.follow_branches(context, chosen)
        return chosen


class BranchPythonOperator(BranchMixin, PythonOperator):
    """A PythonOperator whose callable returns the task id(s) to follow."""

    ui_color = "#ffefeb"

    def execute(self, context: dict[str, Any]) -> Any:
        result = super().execute(context)
        self.follow_branches(context, result)
        return result


class ShortCircuitOperator(PythonOperator):
    """Skip everything downstream when the callable returns a falsy value.

    :param ignore_downstream_trigger_rules: when True (default) all downstream tasks
        are skipped regardless of their trigger rules; when False only the direct
        downstream tasks are skipped and the rest follow their trigger rules.
    """

    is_short_circuit = True

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context: dict[str, Any]) -> Any:
        result = super().execute(context)
        if not result:
            context["ti"].xcom_push(key=SHORT_CIRCUIT_XCOM_KEY, value=True)
        return result
