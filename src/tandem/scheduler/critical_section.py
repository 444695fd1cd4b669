"""Queuing: the one short critical section where pool and concurrency budgets are spent.

Guarded by the ``scheduler_critical_section`` lock row, taken without waiting: a scheduler
that cannot get it skips queuing this pass instead of waiting, and a peer does the work.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.db.dialects import BaseDialect
from tandem.executors.workload import Workload
from tandem.models import DagModel, DagRun, Lock, Pool, TaskInstance
from tandem.orchestration import TiKey, transition_tis
from tandem.scheduler.dag_data import DagData, DagDataCache
from tandem.state import TI_OCCUPYING, DagRunState
from tandem.state import TaskInstanceState as S

LOCK_NAME = "scheduler_critical_section"
_OCCUPYING = [s.value for s in TI_OCCUPYING]


class LockBusy(Exception):
    """Another scheduler holds the critical section."""


# Statements every pass runs, built once: building an expression tree costs more CPU than
# the round trip that runs it.
_LOCK_ROW = sa.select(Lock.name).where(Lock.name == LOCK_NAME)
# The pools' sizes and what occupies them, by pool and DAG, in one round trip: a pool's row
# has no DAG (a task instance always has one).
_BUDGET = sa.union_all(
    sa.select(Pool.name, sa.cast(sa.null(), TaskInstance.dag_id.type).label("dag_id"), Pool.slots,
              sa.literal(0, sa.Integer)),
    sa.select(TaskInstance.pool, TaskInstance.dag_id, sa.func.sum(TaskInstance.pool_slots), sa.func.count())
    .where(TaskInstance.state.in_(_OCCUPYING)).group_by(TaskInstance.pool, TaskInstance.dag_id),
)


@functools.lru_cache(maxsize=8)
def _lock_statement(dialect: BaseDialect) -> sa.Select[str]:
    # SKIP LOCKED rather than NOWAIT: a busy lock reads as no row instead of an error, so the
    # pass's transaction (its scheduling writes) survives and commits without the queuing.
    return dialect.skip_locked(_LOCK_ROW)


def take_lock(session: Session, dialect: BaseDialect) -> None:
    if session.execute(_lock_statement(dialect)).first() is None:
        if session.execute(_LOCK_ROW).first() is None:
            raise LookupError(f"the lock row {LOCK_NAME!r} is missing: run `tandem db migrate`")
        raise LockBusy()


# Candidate pages read per critical section: enough to look past a large fan-out that is
# blocked by its pool or its DAG's max_active_tasks, bounded so the lock stays short.
MAX_PAGES = 8
FIRST_PAGE_MIN = 32


def queue_task_instances(session: Session, dialect: BaseDialect, cache: DagDataCache, *, node_id: str,
                         executor_slots: int, max_tis: int, now: datetime,
                         only: tuple[str, str] | None = None) -> list[Workload]:
    """scheduled -> queued for what fits; returns the workloads to submit after commit.

    Candidates come by priority, a page at a time; a pool or DAG that is full is left out of
    the next page's query, so one blocked fan-out cannot starve the tasks queued behind it.
    """
    if executor_slots <= 0:
        return []
    take_lock(session, dialect)
    budget = _Budget.read(session)
    chosen: list[Any] = []
    dags: dict[str, DagData] = {}
    for number in range(MAX_PAGES):
        # The first page asks for little more than the free slots: while nothing is blocked
        # that is all a pass needs, and a wide run's thousands of scheduled instances cost a
        # pass no more than a narrow one's. Pages after a refusal look further.
        size = min(max_tis, max(2 * (executor_slots - len(chosen)), FIRST_PAGE_MIN)) if number == 0 else max_tis
        page = session.execute(_candidates(budget, only).limit(size)).all()
        if not page:
            break
        dags.update(cache.get_many(session, {c.dag_id for c in page} - dags.keys()))
        budget.count_tasks(session, dags, page)
        picked = [c for c in page if budget.admit(c, dags.get(c.dag_id))][:executor_slots - len(chosen)]
        chosen += _move_to_queued(session, picked, node_id, now)
        if len(chosen) >= executor_slots or len(page) < size:
            break
    return [_workload(c, dags[c.dag_id], node_id) for c in chosen]


_SCHEDULED = (
    sa.select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index,
              TaskInstance.pool, TaskInstance.pool_slots, TaskInstance.queue, TaskInstance.try_number,
              TaskInstance.priority_weight)
    .join(DagRun, sa.and_(DagRun.dag_id == TaskInstance.dag_id, DagRun.run_id == TaskInstance.run_id))
    .where(TaskInstance.state == S.SCHEDULED.value, DagRun.state == DagRunState.RUNNING.value)
)
_ORDER = (TaskInstance.priority_weight.desc(), TaskInstance.scheduled_at, TaskInstance.map_index)
# As in Airflow, a paused DAG's tasks wait (``dags test`` runs its run regardless).
_UNPAUSED = (_SCHEDULED.join(DagModel, DagModel.dag_id == TaskInstance.dag_id)
             .where(DagModel.is_paused.is_(False)))
_UNPAUSED_IN_ORDER = _UNPAUSED.order_by(*_ORDER)


#: Task instances waiting to be queued (``scheduler.probe`` asks whether there is any).
CANDIDATES = _UNPAUSED
_ANY_CANDIDATE = CANDIDATES.with_only_columns(sa.literal(1)).limit(1)


def has_candidates(session: Session) -> bool:
    """Whether any task instance waits to be queued: one cheap read, which spares an idle pass
    the critical section (its lock, budgets and candidates)."""
    return session.execute(_ANY_CANDIDATE).first() is not None


def _candidates(budget: _Budget, only: tuple[str, str] | None) -> sa.Select:
    if only is None and budget.open:
        return _UNPAUSED_IN_ORDER
    if only is not None:
        query = _SCHEDULED.where(TaskInstance.dag_id == only[0], TaskInstance.run_id == only[1])
    else:
        query = _UNPAUSED
    if budget.closed_pools:
        query = query.where(TaskInstance.pool.not_in(budget.closed_pools))
    if budget.closed_dags:
        query = query.where(TaskInstance.dag_id.not_in(budget.closed_dags))
    if budget.closed_tasks:
        query = query.where(sa.tuple_(TaskInstance.dag_id, TaskInstance.task_id).not_in(budget.closed_tasks))
    if budget.closed_task_runs:
        query = query.where(sa.tuple_(TaskInstance.dag_id, TaskInstance.task_id, TaskInstance.run_id)
                            .not_in(budget.closed_task_runs))
    return query.order_by(*_ORDER)


@dataclass
class _Budget:
    """Pool slots and per-DAG task slots left, spent as candidates are admitted."""

    pools: dict[str, int]
    pool_used: dict[str, int]
    dag_used: dict[str, int]
    closed_pools: set[str] = field(default_factory=set)
    closed_dags: set[str] = field(default_factory=set)
    #: Occupying tries per (dag, task) and (dag, task, run), for tasks with max_active_tis_per_dag(run).
    task_used: defaultdict[tuple[str, ...], int] = field(default_factory=lambda: defaultdict(int))
    counted_tasks: set[tuple[str, str]] = field(default_factory=set)
    closed_tasks: set[tuple[str, str]] = field(default_factory=set)
    closed_task_runs: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def open(self) -> bool:
        """Nothing is closed yet: the candidates' query needs no exclusions."""
        return not (self.closed_pools or self.closed_dags or self.closed_tasks or self.closed_task_runs)

    @classmethod
    def read(cls, session: Session) -> _Budget:
        pools: dict[str, int] = {}
        pool_used: dict[str, int] = defaultdict(int)
        dag_used: dict[str, int] = defaultdict(int)
        for pool, dag_id, slots, count in session.execute(_BUDGET):
            if dag_id is None:
                pools[pool] = int(slots)
            else:
                pool_used[pool] += int(slots)
                dag_used[dag_id] += int(count)
        return cls(pools, pool_used, dag_used, closed_pools={p for p, n in pools.items() if pool_used[p] >= n})

    def count_tasks(self, session: Session, dags: dict[str, DagData], page: Sequence[Any]) -> None:
        """Read the usage of the page's tasks that set a per-task limit (once per task)."""
        limited = {(c.dag_id, c.task_id) for c in page if c.dag_id in dags and any(
            dags[c.dag_id].tasks.get(c.task_id, {}).get(k) is not None
            for k in ("max_active_tis_per_dag", "max_active_tis_per_dagrun"))} - self.counted_tasks
        if not limited:
            return
        self.counted_tasks |= limited
        for dag_id, task_id, run_id, count in session.execute(
            sa.select(TaskInstance.dag_id, TaskInstance.task_id, TaskInstance.run_id, sa.func.count())
            .where(sa.tuple_(TaskInstance.dag_id, TaskInstance.task_id).in_(limited),
                   TaskInstance.state.in_(_OCCUPYING))
            .group_by(TaskInstance.dag_id, TaskInstance.task_id, TaskInstance.run_id)
        ):
            self.task_used[(dag_id, task_id)] += int(count)
            self.task_used[(dag_id, task_id, run_id)] += int(count)

    def admit(self, c: Any, dag: DagData | None) -> bool:
        """Spend the slots ``c`` needs, or close what is full to later pages and refuse it."""
        if dag is None or self.dag_used[c.dag_id] >= dag.max_active_tasks:
            self.closed_dags.add(c.dag_id)
            return False
        if c.pool not in self.pools or self.pool_used[c.pool] + c.pool_slots > self.pools[c.pool]:
            # Conservative for a pool with a few slots left: it reopens at the next pass.
            self.closed_pools.add(c.pool)
            return False
        limits = dag.tasks.get(c.task_id, {})
        per_dag, per_run = limits.get("max_active_tis_per_dag"), limits.get("max_active_tis_per_dagrun")
        if per_dag is not None and self.task_used[(c.dag_id, c.task_id)] >= per_dag:
            self.closed_tasks.add((c.dag_id, c.task_id))
            return False
        if per_run is not None and self.task_used[(c.dag_id, c.task_id, c.run_id)] >= per_run:
            self.closed_task_runs.add((c.dag_id, c.task_id, c.run_id))
            return False
        self.pool_used[c.pool] += c.pool_slots
        self.dag_used[c.dag_id] += 1
        self.task_used[(c.dag_id, c.task_id)] += 1
        self.task_used[(c.dag_id, c.task_id, c.run_id)] += 1
        return True


def _move_to_queued(session: Session, picked: list[Any], node_id: str, now: datetime) -> list[Any]:
    """scheduled -> queued; the ones that actually moved (a user or a peer may change a candidate
    between the candidate query and this update: that one is left alone, not a reason to fail)."""
    keys = [TiKey(c.dag_id, c.run_id, c.task_id, c.map_index) for c in picked]
    moved = transition_tis(session, keys, S.SCHEDULED, S.QUEUED, values={"queued_by": node_id}, now=now)
    if moved == len(keys):
        return picked
    ours = {tuple(k) for k in session.execute(
        sa.select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index)
        .where(sa.tuple_(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index)
               .in_([tuple(k) for k in keys]),
               TaskInstance.state == S.QUEUED.value, TaskInstance.queued_by == node_id,
               TaskInstance.queued_at == now)
    )}
    return [c for c, k in zip(picked, keys, strict=True) if tuple(k) in ours]


def _workload(c: Any, dag: DagData, node_id: str) -> Workload:
    task = dag.tasks.get(c.task_id, {})
    return Workload(
        dag_id=c.dag_id, run_id=c.run_id, task_id=c.task_id, map_index=c.map_index,
        try_number=c.try_number + 1, queue=c.queue, priority_weight=c.priority_weight,
        fileloc=dag.data.get("fileloc", ""), dag_hash=dag.dag_hash,
        bundle_name=dag.data.get("bundle_name", ""), relative_fileloc=dag.data.get("relative_fileloc", ""),
        execution_timeout=task.get("execution_timeout"), queued_by=node_id,
    )
