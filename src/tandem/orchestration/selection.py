"""Which task instances a clear or a mark touches, from the options a user picks (as in Airflow):
upstream and downstream tasks, past and future runs, only failed ones.

Read-only: the actions in ``actions.py`` apply what these select, and the API's ``dry_run``
answers with the same selection, so the preview a user confirms is what gets changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import DagRun, TaskInstance
from tandem.orchestration.transition import TiKey
from tandem.state import DagRunState
from tandem.state import TaskInstanceState as S


@dataclass(frozen=True)
class Scope:
    """The options of a clear or mark dialog around one task (or none: the whole DAG)."""

    upstream: bool = False
    downstream: bool = False
    past: bool = False
    future: bool = False


def closure(tasks: list[dict[str, Any]], roots: Iterable[str], direction: str) -> set[str]:
    """``roots`` plus every task reachable through ``direction`` ("upstream" or "downstream")."""
    by_id = {t["task_id"]: t for t in tasks}
    seen = set(roots)
    stack = list(seen)
    while stack:
        for other in by_id.get(stack.pop(), {}).get(direction, []):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


def scoped_task_ids(tasks: list[dict[str, Any]], task_ids: Iterable[str], scope: Scope) -> set[str]:
    chosen = set(task_ids)
    out = set(chosen)
    if scope.upstream:
        out |= closure(tasks, chosen, "upstream")
    if scope.downstream:
        out |= closure(tasks, chosen, "downstream")
    return out


def scoped_run_ids(session: Session, dag_id: str, run_id: str, scope: Scope) -> list[str]:
    """The run, and with ``past``/``future`` the DAG's runs at earlier/later logical dates."""
    if not (scope.past or scope.future):
        return [run_id]
    anchor = session.execute(sa.select(DagRun.logical_date).where(
        DagRun.dag_id == dag_id, DagRun.run_id == run_id)).scalar_one()
    query = sa.select(DagRun.run_id).where(DagRun.dag_id == dag_id)
    if scope.past and not scope.future:
        query = query.where(DagRun.logical_date <= anchor)
    elif scope.future and not scope.past:
        query = query.where(DagRun.logical_date >= anchor)
    return list(session.execute(query.order_by(DagRun.logical_date)).scalars())


def mark_targets(session: Session, dag_id: str, run_ids: list[str], task_ids: set[str], new: S,
                 map_index: int | None = None) -> list[TiKey]:
    """Task instances a mark would change: those not already in ``new``."""
    query = sa.select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index).where(
        TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(run_ids), TaskInstance.task_id.in_(task_ids),
        TaskInstance.state != new.value)
    if map_index is not None:
        query = query.where(TaskInstance.map_index == map_index)
    rows = session.execute(query.order_by(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index)).all()
    return [TiKey(*row) for row in rows]


def run_mark_targets(session: Session, dag_id: str, run_id: str, new: DagRunState) -> list[TiKey]:
    """Task instances that marking the run success or failed changes (``set_dag_run_state``'s rule)."""
    if new == DagRunState.SUCCESS:
        changing = TaskInstance.state.not_in((S.SUCCESS.value, S.SKIPPED.value, S.REMOVED.value))
    else:
        changing = TaskInstance.state.in_((S.NONE.value, S.SCHEDULED.value, S.QUEUED.value, S.RUNNING.value,
                                           S.UP_FOR_RETRY.value))
    rows = session.execute(sa.select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id,
                                      TaskInstance.map_index)
                           .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, changing)
                           .order_by(TaskInstance.task_id, TaskInstance.map_index)).all()
    return [TiKey(*row) for row in rows]


def external_clears(session: Session, dag_id: str, run_ids: list[str], task_ids: set[str],
                    *, max_depth: int = 10) -> list[tuple[str, list[str], set[str]]]:
    """What a *recursive* clear adds: for each ExternalTaskMarker among ``task_ids``, its external
    task and that task's downstream in the external DAG's run at the same logical date, followed
    again through the markers found there (at most ``max_depth`` DAGs deep, as Airflow's
    ``recursion_depth``). Returns (dag_id, run_ids, task_ids) groups.
    """
    from tandem.models import SerializedDagModel

    def tasks_of(dag: str) -> list[dict[str, Any]]:
        data = session.execute(sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag)).scalar()
        return list((data or {}).get("tasks", []))

    groups: list[tuple[str, list[str], set[str]]] = []
    seen = {(dag_id, run_id, task_id) for run_id in run_ids for task_id in task_ids}
    frontier = [(dag_id, run_ids, task_ids, max_depth)]
    while frontier:
        dag, runs, chosen, depth = frontier.pop()
        markers = [t["clears_external"] for t in tasks_of(dag) if t["task_id"] in chosen and t.get("clears_external")]
        if not markers or depth <= 0:
            continue
        dates = list(session.execute(sa.select(DagRun.logical_date).where(
            DagRun.dag_id == dag, DagRun.run_id.in_(runs))).scalars())
        for marker in markers:
            external = marker["dag_id"]
            external_runs = list(session.execute(sa.select(DagRun.run_id).where(
                DagRun.dag_id == external, DagRun.logical_date.in_(dates))).scalars())
            external_tasks = closure(tasks_of(external), [marker["task_id"]], "downstream")
            new = {(external, r, t) for r in external_runs for t in external_tasks} - seen
            if not new:
                continue
            seen |= new
            group = (external, sorted({r for _, r, _ in new}), {t for _, _, t in new})
            groups.append(group)
            frontier.append((*group, min(depth - 1, int(marker.get("recursion_depth") or max_depth))))
    return groups
