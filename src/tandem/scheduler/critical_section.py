"""Queuing: the one short critical section where pool and concurrency budgets are spent.

Guarded by the ``scheduler_critical_section`` lock row, taken with NOWAIT: a scheduler that
cannot get it skips queuing this loop instead of waiting, and a peer does the work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.db.dialects import BaseDialect
from tandem.executors.workload import Workload
from tandem.models import DagRun, Lock, Pool, TaskInstance
from tandem.orchestration import TiKey, transition_tis
from tandem.scheduler.dag_data import DagDataCache
from tandem.state import TI_OCCUPYING, DagRunState
from tandem.state import TaskInstanceState as S

LOCK_NAME = "scheduler_critical_section"
_OCCUPYING = [s.value for s in TI_OCCUPYING]


class LockBusy(Exception):
    """Another scheduler holds the critical section."""


def take_lock(session: Session, dialect: BaseDialect) -> None:
    try:
        session.execute(dialect.nowait(sa.select(Lock.name).where(Lock.name == LOCK_NAME))).one()
    except sa.exc.OperationalError as e:
        if dialect.is_lock_unavailable(e):
            raise LockBusy() from None
        raise


def _task_usage(session: Session, dags: dict[str, Any], candidates: Sequence[Any]) -> defaultdict[tuple[str, ...], int]:
    """Occupying instances per (dag, task) and per (dag, task, run), for the candidates' tasks that
    set ``max_active_tis_per_dag`` or ``max_active_tis_per_dagrun`` (only those are counted)."""
    used: defaultdict[tuple[str, ...], int] = defaultdict(int)
    limited = {(c.dag_id, c.task_id) for c in candidates if c.dag_id in dags and any(
        dags[c.dag_id].tasks.get(c.task_id, {}).get(k) is not None
        for k in ("max_active_tis_per_dag", "max_active_tis_per_dagrun"))}
    if not limited:
        return used
    for dag_id, task_id, run_id, count in session.execute(
        sa.select(TaskInstance.dag_id, TaskInstance.task_id, TaskInstance.run_id, sa.func.count())
        .where(sa.tuple_(TaskInstance.dag_id, TaskInstance.task_id).in_(limited),
               TaskInstance.state.in_(_OCCUPYING))
        .group_by(TaskInstance.dag_id, TaskInstance.task_id, TaskInstance.run_id)
    ):
        used[(dag_id, task_id)] += int(count)
        used[(dag_id, task_id, run_id)] += int(count)
    return used


def queue_task_instances(session: Session, dialect: BaseDialect, cache: DagDataCache, *, node_id: str,
                         executor_slots: int, max_tis: int, now: datetime,
                         only: tuple[str, str] | None = None) -> list[Workload]:
    """scheduled -> queued for what fits; returns the workloads to submit after commit."""
    if executor_slots <= 0:
        return []
    take_lock(session, dialect)
    query = (
        sa.select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index,
                  TaskInstance.pool, TaskInstance.pool_slots, TaskInstance.queue, TaskInstance.try_number,
                  TaskInstance.priority_weight)
        .join(DagRun, sa.and_(DagRun.dag_id == TaskInstance.dag_id, DagRun.run_id == TaskInstance.run_id))
        .where(TaskInstance.state == S.SCHEDULED.value, DagRun.state == DagRunState.RUNNING.value)
    )
    if only is not None:
        query = query.where(TaskInstance.dag_id == only[0], TaskInstance.run_id == only[1])
    candidates = session.execute(
        query.order_by(TaskInstance.priority_weight.desc(), TaskInstance.scheduled_at, TaskInstance.map_index)
        .limit(max_tis)
    ).all()
    if not candidates:
        return []
    pools = dict(session.execute(sa.select(Pool.name, Pool.slots)).all())
    dag_ids = {c.dag_id for c in candidates}
    pool_used: dict[str, int] = defaultdict(int)
    dag_used: dict[str, int] = defaultdict(int)
    for pool, dag_id, slots, count in session.execute(
        sa.select(TaskInstance.pool, TaskInstance.dag_id, sa.func.sum(TaskInstance.pool_slots), sa.func.count())
        .where(TaskInstance.state.in_(_OCCUPYING)).group_by(TaskInstance.pool, TaskInstance.dag_id)
    ):
        pool_used[pool] += int(slots)
        dag_used[dag_id] += int(count)
    dags = cache.get_many(session, dag_ids)
    task_used = _task_usage(session, dags, candidates)
    chosen: list[Any] = []
    for c in candidates:
        if len(chosen) >= executor_slots:
            break
        dag = dags.get(c.dag_id)
        if dag is None or c.pool not in pools:
            continue
        if pool_used[c.pool] + c.pool_slots > pools[c.pool] or dag_used[c.dag_id] >= dag.max_active_tasks:
            continue
        limits = dag.tasks.get(c.task_id, {})
        per_dag, per_run = limits.get("max_active_tis_per_dag"), limits.get("max_active_tis_per_dagrun")
        if per_dag is not None and task_used[(c.dag_id, c.task_id)] >= per_dag:
            continue
        if per_run is not None and task_used[(c.dag_id, c.task_id, c.run_id)] >= per_run:
            continue
        pool_used[c.pool] += c.pool_slots
        dag_used[c.dag_id] += 1
        task_used[(c.dag_id, c.task_id)] += 1
        task_used[(c.dag_id, c.task_id, c.run_id)] += 1
        chosen.append(c)
    keys = [TiKey(c.dag_id, c.run_id, c.task_id, c.map_index) for c in chosen]
    moved = transition_tis(session, keys, S.SCHEDULED, S.QUEUED, values={"queued_by": node_id}, now=now)
    if moved != len(keys):
        # Unreachable while the lock is held; refuse to hand out tries we do not own.
        raise RuntimeError(f"queued {moved} of {len(keys)} task instances inside the critical section")
    workloads = []
    for c in chosen:
        dag = dags[c.dag_id]
        task = dag.tasks.get(c.task_id, {})
        workloads.append(Workload(
            dag_id=c.dag_id, run_id=c.run_id, task_id=c.task_id, map_index=c.map_index,
            try_number=c.try_number + 1, queue=c.queue, priority_weight=c.priority_weight,
            fileloc=dag.data.get("fileloc", ""), dag_hash=dag.dag_hash,
            execution_timeout=task.get("execution_timeout"),
        ))
    return workloads
