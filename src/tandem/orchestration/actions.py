"""User actions on task instances and runs: clear, mark success or failed.

Shared by the CLI and the API; every change goes through ``transition``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import DagRun, SerializedDagModel, TaskInstance, utcnow
from tandem.models.queries import lock_dag_runs
from tandem.orchestration.selection import closure
from tandem.orchestration.transition import TiKey, transition_run, transition_tis
from tandem.state import RUN_TERMINAL, DagRunState
from tandem.state import TaskInstanceState as S


def select_task_ids(session: Session, dag_id: str, *, task_regex: str | None = None,
                    task_ids: Iterable[str] | None = None, downstream: bool = False) -> set[str] | None:
    """Task ids a clear applies to; None means every task of the DAG."""
    if task_regex is None and task_ids is None:
        return None
    data = session.execute(sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)).scalar_one()
    tasks = data["tasks"]
    chosen = set(task_ids or ())
    if task_regex is not None:
        pattern = re.compile(task_regex)
        chosen |= {t["task_id"] for t in tasks if pattern.search(t["task_id"])}
    chosen = closure(tasks, chosen, "downstream") if downstream else chosen
    return _with_setups_and_teardowns(tasks, chosen)


def _with_setups_and_teardowns(tasks: list[dict], chosen: set[str]) -> set[str]:
    """``chosen`` plus, as in Airflow, the setups upstream of them and those setups' teardowns:
    a work task cleared alone would run without the resources its setup creates."""
    by_id = {t["task_id"]: t for t in tasks}
    setups: set[str] = set()
    stack = [u for t in chosen for u in by_id.get(t, {}).get("upstream", [])]
    while stack:
        task_id = stack.pop()
        if task_id not in setups and by_id.get(task_id, {}).get("is_setup"):
            setups.add(task_id)
            stack.extend(by_id[task_id].get("upstream", []))
    teardowns = {d for s in setups for d in by_id[s].get("downstream", []) if by_id[d].get("is_teardown")}
    return chosen | setups | teardowns


def clear_task_instances(session: Session, dag_id: str, *, run_ids: Iterable[str] | None = None,
                         task_ids: set[str] | None = None, only_failed: bool = False,
                         dry_run: bool = False, now: datetime | None = None) -> list[TiKey]:
    """Put matching task instances back to ``none`` so they run again, and their runs to queued.

    Each cleared instance gets ``retries`` more tries counted from its last try, as in Airflow.
    A running instance is cleared too: its runner notices at its next heartbeat and stops.
    """
    now = now or utcnow()
    if not dry_run:
        run_ids = lock_dag_runs(session, dag_id, run_ids)
    query = sa.select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.state != S.NONE.value)
    if run_ids is not None:
        query = query.where(TaskInstance.run_id.in_(list(run_ids)))
    if task_ids is not None:
        query = query.where(TaskInstance.task_id.in_(task_ids))
    if only_failed:
        query = query.where(TaskInstance.state.in_([S.FAILED.value, S.UPSTREAM_FAILED.value]))
    rows = session.execute(query).scalars().all()
    keys = [TiKey(r.dag_id, r.run_id, r.task_id, r.map_index) for r in rows]
    if dry_run or not rows:
        return keys
    retries = _retries(session, dag_id)
    cleared: list[TiKey] = []
    for r in rows:
        key = TiKey(r.dag_id, r.run_id, r.task_id, r.map_index)
        values = {"max_tries": r.try_number + retries.get(r.task_id, 0)}
        if transition_tis(session, [key], S(r.state), S.NONE, values=values, now=now):
            cleared.append(key)
    # Cleared instances of a mapped task run again as they are, keeping their try numbers (as in
    # Airflow); the task is not expanded anew.
    for run_id in {k.run_id for k in cleared}:
        transition_run(session, dag_id, run_id, RUN_TERMINAL, DagRunState.QUEUED, now=now)
    return cleared


def _retries(session: Session, dag_id: str) -> dict[str, int]:
    data = session.execute(sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)).scalar_one_or_none()
    return {t["task_id"]: int(t.get("retries") or 0) for t in (data or {}).get("tasks", [])}


def set_task_instance_state(session: Session, key: TiKey, new: S, *, now: datetime | None = None) -> bool:
    """Mark one task instance success or failed by hand (no retry)."""
    if new not in (S.SUCCESS, S.FAILED, S.SKIPPED):
        raise ValueError(f"a task instance can only be marked success, failed or skipped, not {new.value}")
    lock_dag_runs(session, key.dag_id, [key.run_id])
    current = session.execute(sa.select(TaskInstance.state).where(
        TaskInstance.dag_id == key.dag_id, TaskInstance.run_id == key.run_id,
        TaskInstance.task_id == key.task_id, TaskInstance.map_index == key.map_index)).scalar_one_or_none()
    if current is None:
        raise LookupError(f"task instance {key} not found")
    if current == new.value:
        return False
    changed = transition_tis(session, [key], S(current), new, now=now or utcnow())
    if changed:
        run_state = session.execute(sa.select(DagRun.state).where(
            DagRun.dag_id == key.dag_id, DagRun.run_id == key.run_id)).scalar_one()
        if run_state in RUN_TERMINAL:
            transition_run(session, key.dag_id, key.run_id, DagRunState(run_state), DagRunState.QUEUED, now=now)
    return bool(changed)


def set_dag_run_state(session: Session, dag_id: str, run_id: str, new: DagRunState,
                      *, now: datetime | None = None) -> bool:
    """Mark a run success (its unfinished tasks success) or failed (its unfinished tasks skipped...)."""
    now = now or utcnow()
    lock_dag_runs(session, dag_id, [run_id])
    run = session.execute(sa.select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).scalar_one_or_none()
    if run is None:
        raise LookupError(f"DAG run {dag_id}/{run_id} not found")
    if new not in RUN_TERMINAL:
        raise ValueError(f"a DAG run can only be marked success or failed, not {new.value}")
    tis = session.execute(sa.select(TaskInstance).where(
        TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)).scalars().all()
    for ti in tis:
        state = S(ti.state)
        key = TiKey(dag_id, run_id, ti.task_id, ti.map_index)
        if new == DagRunState.SUCCESS and state not in (S.SUCCESS, S.SKIPPED, S.REMOVED):
            transition_tis(session, [key], state, S.SUCCESS, now=now)
        elif new == DagRunState.FAILED and state in (S.NONE, S.SCHEDULED, S.QUEUED, S.RUNNING, S.UP_FOR_RETRY):
            transition_tis(session, [key], state, S.SKIPPED if state != S.RUNNING else S.FAILED, now=now)
    if run.state == new.value:
        return False
    return transition_run(session, dag_id, run_id, DagRunState(run.state), new, now=now)
