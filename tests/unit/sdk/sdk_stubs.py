"""An in-memory runner for SDK tests: a fake task instance and the runner's steps.

It follows the contract documented in ``tandem.sdk.runtime`` so the tests exercise
operators the way the real runner will.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tandem.exceptions import TaskSkipped
from tandem.sdk.context import build_context
from tandem.sdk.dag import DAG

LOGICAL_DATE = datetime(2024, 3, 5, 6, 7, 8, tzinfo=UTC)


class XComStore:
    """(dag_id, run_id, task_id, map_index, key) -> value."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, int, str], Any] = {}

    def push(self, task_id: str, map_index: int, key: str, value: Any) -> None:
        self.values[(task_id, map_index, key)] = value

    def pull_one(self, task_id: str, key: str, map_indexes: int | list[int] | None, default: Any) -> Any:
        indexes = sorted(i for (t, i, k) in self.values if t == task_id and k == key)
        if map_indexes is None:
            if indexes and indexes != [-1]:  # a mapped upstream: every instance's value
                return [self.values[(task_id, i, key)] for i in indexes if i >= 0]
            return self.values.get((task_id, -1, key), default)
        if isinstance(map_indexes, int):
            return self.values.get((task_id, map_indexes, key), default)
        return [self.values.get((task_id, i, key), default) for i in map_indexes]


class StubTaskInstance:
    """Implements ``tandem.sdk.runtime.RuntimeTaskInstance`` over an XComStore."""

    def __init__(
        self,
        task_id: str,
        *,
        store: XComStore | None = None,
        map_index: int = -1,
        dag_id: str = "dag",
        run_id: str = "manual__1",
        try_number: int = 1,
    ) -> None:
        self.dag_id = dag_id
        self.run_id = run_id
        self.task_id = task_id
        self.map_index = map_index
        self.try_number = try_number
        self.store = store or XComStore()
        self.pushed: dict[str, Any] = {}

    def xcom_pull(
        self,
        task_ids: str | list[str] | None = None,
        key: str = "return_value",
        map_indexes: int | list[int] | None = None,
        default: Any = None,
    ) -> Any:
        if task_ids is None:
            task_ids = self.task_id
        if isinstance(task_ids, list):
            return [self.store.pull_one(t, key, map_indexes, default) for t in task_ids]
        return self.store.pull_one(task_ids, key, map_indexes, default)

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value
        self.store.push(self.task_id, self.map_index, key, value)


def run_task(
    dag: DAG,
    task_id: str,
    *,
    store: XComStore | None = None,
    map_index: int = -1,
    conf: dict[str, Any] | None = None,
    variables: dict[str, str] | None = None,
) -> tuple[str, Any, StubTaskInstance, dict[str, Any]]:
    """Run one task instance like the runner does; returns (state, result, ti, context)."""
    store = store if store is not None else XComStore()
    ti = StubTaskInstance(task_id, store=store, map_index=map_index, dag_id=dag.dag_id)
    task = dag.get_task(task_id)
    if task.is_mapped:
        task = task.unmap_for_index(map_index, ti)  # type: ignore[attr-defined]
    else:
        task = task.prepare_for_execution()  # type: ignore[attr-defined]
    context = build_context(
        dag=dag,
        task=task,
        ti=ti,
        run_id=ti.run_id,
        logical_date=LOGICAL_DATE,
        data_interval_start=LOGICAL_DATE,
        data_interval_end=LOGICAL_DATE,
        conf=conf or {},
        params=None,
        variable_getter=(variables or {}).get,
    )
    task.resolve_xcom_args(context)  # type: ignore[attr-defined]
    task.render_template_fields(context)  # type: ignore[attr-defined]
    try:
        result = task.execute(context)  # type: ignore[attr-defined]
    except TaskSkipped:
        return "skipped", None, ti, context
    for key, value in task.xcoms_to_push(result).items():
        ti.xcom_push(key, value)
    return "success", result, ti, context
