"""Scheduling running DAG runs: apply ``deps.plan_view`` to a locked batch of runs.

A pass reads of each run what its decisions need: a small run, or one that may end now, is
read whole; a wide one only by its open instances (none, up_for_retry) and the state counts,
grouped in SQL, of the tasks those look at. So once a fan-out of thousands is scheduled, a
pass over its run costs a few rows however wide it is. Both views are read from the
database on every pass: nothing is remembered between passes that could go stale.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.db.dialects import BaseDialect
from tandem.db.statistics import note_bulk_insert
from tandem.models import DagModel, DagRun, TaskInstance, XCom, table_of
from tandem.observability import instruments
from tandem.orchestration import TiKey, transition_run, transition_tis
from tandem.scheduler.callbacks import DagCallback, wanted
from tandem.scheduler.dag_data import DagData, DagDataCache
from tandem.scheduler.dagruns import task_instance_rows
from tandem.scheduler.deps import OPEN_STATES, Plan, RunView, TiView, plan_view
from tandem.state import TI_UNFINISHED, DagRunState
from tandem.state import TaskInstanceState as S

log = logging.getLogger(__name__)

SIGNAL_KEYS = ("branch_followed", "short_circuit")
# Longest wait (seconds) before a run that keeps failing to schedule is tried again.
MAX_RUN_BACKOFF = 300.0


@dataclass
class ScheduleStats:
    runs: int = 0
    scheduled: int = 0
    finished_runs: int = 0
    callbacks: list[DagCallback] = field(default_factory=list)


@dataclass
class _Run:
    """What a pass needs of a run it locked (plain columns: loading ORM objects costs more CPU
    than the whole round trip). ``dag_hash`` is updated when the run is moved to a new DAG version."""

    id: int
    dag_id: str
    run_id: str
    logical_date: datetime
    start_date: datetime | None
    dag_hash: str | None
    scheduling_failures: int


_DAG_RUN = table_of(DagRun)
_RunSelect = sa.Select[int, str, str, datetime, datetime | None, str | None, int]
# Built once (the pass's time is a bound parameter): building it costs more CPU than running it.
_RUNNING: _RunSelect = sa.select(DagRun.id, DagRun.dag_id, DagRun.run_id, DagRun.logical_date, DagRun.start_date,
                     DagRun.dag_hash, DagRun.scheduling_failures).where(
    DagRun.state == DagRunState.RUNNING.value,
    sa.or_(DagRun.next_scheduling_at.is_(None), DagRun.next_scheduling_at <= sa.bindparam("now")),
)


# As in Airflow, a paused DAG's runs wait.
RUNS_TO_SCHEDULE: _RunSelect = _RUNNING.join(DagModel, DagModel.dag_id == DagRun.dag_id).where(
    DagModel.is_paused.is_(False))


@functools.lru_cache(maxsize=8)
def _runs_to_schedule(dialect: BaseDialect, limit: int) -> _RunSelect:
    return dialect.skip_locked(RUNS_TO_SCHEDULE.order_by(DagRun.last_scheduling_decision).limit(limit))


def schedule_runs(session: Session, dialect: BaseDialect, cache: DagDataCache, now: datetime,
                  limit: int, *, only: tuple[str, str] | None = None) -> ScheduleStats:
    """Plan and apply the next steps of a batch of running runs (``only``: just that one run)."""
    stats = ScheduleStats()
    if only is None:
        query = _runs_to_schedule(dialect, limit)
    else:  # ``dags test`` drives its own run, paused or not
        query = dialect.skip_locked(_RUNNING.where(DagRun.dag_id == only[0], DagRun.run_id == only[1])
                                    .order_by(DagRun.last_scheduling_decision).limit(limit))
    runs = [_Run(*row) for row in session.execute(query, {"now": now})]
    if not runs:
        return stats
    stats.runs = len(runs)
    dags = cache.get_many(session, {r.dag_id for r in runs})
    run_keys = [(r.dag_id, r.run_id) for r in runs]
    partial = _partial_candidates(session, runs, dags, now)
    views = _read_views(session, dags, [k for k in run_keys if k not in partial], list(partial))
    signals: dict[tuple[str, str], dict[tuple[str, str], Any]] = defaultdict(dict)
    signal_runs = [k for k in run_keys if k[0] in dags and dags[k[0]].has_signals]
    if signal_runs:
        for x in session.execute(
            sa.select(XCom.dag_id, XCom.run_id, XCom.task_id, XCom.key, XCom.value)
            .where(sa.tuple_(XCom.dag_id, XCom.run_id).in_(signal_runs), XCom.key.in_(SIGNAL_KEYS))
        ):
            signals[(x.dag_id, x.run_id)][(x.task_id, x.key)] = x.value
    for run in runs:
        key = (run.dag_id, run.run_id)
        try:
            dag = dags.get(run.dag_id)
            if dag is None:
                raise LookupError(cache.unreadable.get(run.dag_id, "its DAG has no serialized version"))
            _schedule_run(session, run, dag, views[key], signals[key], now, stats)
        except sa.exc.DBAPIError as e:
            if dialect.is_retryable(e):
                raise  # the connection or the transaction is gone: the whole pass is retried
            raise RunUnschedulable(key, run.scheduling_failures, e) from e
        except Exception as e:
            cache.forget(key[0])
            raise RunUnschedulable(key, run.scheduling_failures, e) from e
    return stats


class RunUnschedulable(Exception):
    """One run's DAG or rows raised while it was scheduled.

    The caller rolls the pass back and calls ``mark_unschedulable``, then passes again at
    once: the run is put off, the others go on. (No savepoint per run: two round trips for
    every run of every pass, to spare the rare pass that meets a broken run from running again.)
    """

    def __init__(self, key: tuple[str, str], failures: int, error: Exception) -> None:
        super().__init__(f"DAG run {key[0]}/{key[1]} could not be scheduled: {error}")
        self.key, self.failures, self.error = key, failures, error

    def mark(self, session: Session, now: datetime) -> None:
        """Record why, in a transaction of its own: peers skip the run until a backoff passes."""
        _run_failed(session, self.key, self.failures, self.error, now)


def _schedule_run(session: Session, run: _Run, dag: DagData, view: list[TiView] | RunView,
                  signals: dict[tuple[str, str], Any], now: datetime, stats: ScheduleStats) -> None:
    if isinstance(view, list):  # the complete view
        run_tis = view
        if run.dag_hash != dag.dag_hash:
            run_tis = _verify_integrity(session, run, dag, run_tis)
        if _timed_out(run, dag, now):
            if _fail_timed_out(session, run, run_tis, now):
                stats.finished_runs += 1
                stats.callbacks += wanted(dag.data, run.dag_id, run.run_id, False, "dagrun_timeout exceeded")
            return
        view = RunView.complete(run_tis)
    plan = plan_view(dag, view, signals, now)
    stats.scheduled += _apply(session, run, dag, plan, now)
    if plan.run_state is not None:
        new = DagRunState.SUCCESS if plan.run_state == S.SUCCESS else DagRunState.FAILED
        if transition_run(session, run.dag_id, run.run_id, DagRunState.RUNNING, new, now=now):
            stats.finished_runs += 1
            succeeded = new == DagRunState.SUCCESS
            stats.callbacks += wanted(dag.data, run.dag_id, run.run_id, succeeded,
                                      "all tasks done" if succeeded else "a leaf task failed")
            log.info("DAG run %s/%s finished: %s", run.dag_id, run.run_id, new.value)
            instruments.dag_run_finished(run.dag_id, new.value, run.start_date, now)
    values: dict[str, Any] = {"last_scheduling_decision": now, "dag_hash": run.dag_hash}
    if run.scheduling_failures:
        values.update(scheduling_error=None, scheduling_failures=0, next_scheduling_at=None)
    session.execute(sa.update(_DAG_RUN).where(_DAG_RUN.c.id == run.id).values(values))


# A DAG this small is read whole on every pass: one query costs less than the three of a
# partial view. Wider runs are read in part, so a pass costs what changed, not the run's width.
SMALL_DAG = 100
_OTHERS = [st.value for st in TI_UNFINISHED if st.value not in OPEN_STATES]


def _partial_candidates(session: Session, runs: Sequence[_Run], dags: dict[str, DagData],
                        now: datetime) -> set[tuple[str, str]]:
    """The runs a partial view will do for: wide ones that cannot end in this pass, as they
    have unfinished instances that a plan does not decide on (scheduled, queued, running).

    A run is read whole when its DAG changed or timed out, when it is small, or when a mapped
    task group follows its upstream instance by instance.
    """
    wide = [(r.dag_id, r.run_id) for r in runs if (dag := dags.get(r.dag_id)) is not None
            and r.dag_hash == dag.dag_hash and not _timed_out(r, dag, now) and not dag.has_mapped_groups
            and (len(dag.tasks) > SMALL_DAG or dag.mapped)]
    if not wide:
        return set()
    busy = sa.exists().where(
        TaskInstance.dag_id == DagRun.dag_id, TaskInstance.run_id == DagRun.run_id, TaskInstance.state.in_(_OTHERS),
    )
    return {(d, r) for d, r in session.execute(
        sa.select(DagRun.dag_id, DagRun.run_id).where(sa.tuple_(DagRun.dag_id, DagRun.run_id).in_(wide), busy)
    )}


_RUN_TIS = sa.select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index,
                     TaskInstance.state, TaskInstance.next_retry_at).where(
    sa.tuple_(TaskInstance.dag_id, TaskInstance.run_id).in_(sa.bindparam("runs", expanding=True)))
_OPEN_RUN_TIS = _RUN_TIS.where(TaskInstance.state.in_(OPEN_STATES))


def _read_views(session: Session, dags: dict[str, DagData], complete: list[tuple[str, str]],
                partial: list[tuple[str, str]]) -> dict[tuple[str, str], list[TiView] | RunView]:
    """Every instance of the ``complete`` runs; the open instances of the ``partial`` ones, with
    state counts of the tasks those instances look at (upstream, branches), grouped in SQL."""
    views: dict[tuple[str, str], list[TiView] | RunView] = {}
    if complete:
        full: dict[tuple[str, str], list[TiView]] = {k: [] for k in complete}
        for row in session.execute(_RUN_TIS, {"runs": complete}):
            full[(row.dag_id, row.run_id)].append(TiView(row.task_id, row.map_index, row.state, row.next_retry_at))
        views.update(full)
    if not partial:
        return views
    parts = {k: RunView([], defaultdict(Counter)) for k in partial}
    for row in session.execute(_OPEN_RUN_TIS, {"runs": partial}):
        parts[(row.dag_id, row.run_id)].open.append(TiView(row.task_id, row.map_index, row.state, row.next_retry_at))
    looked_at: set[str] = set()
    for (dag_id, _), view in parts.items():
        dag = dags[dag_id]
        looked_at.update(dag.signal_tasks)
        for task_id in {t.task_id for t in view.open if t.task_id in dag.tasks}:
            looked_at.update(dag.upstream(task_id))
    if looked_at:
        query = (sa.select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.state,
                           sa.func.count())
                 .where(sa.tuple_(TaskInstance.dag_id, TaskInstance.run_id).in_(partial))
                 .group_by(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.state))
        if len(looked_at) <= SMALL_DAG:  # a long IN list costs more than grouping a few more rows
            query = query.where(TaskInstance.task_id.in_(looked_at))
        for dag_id, run_id, task_id, state, count in session.execute(query):
            parts[(dag_id, run_id)].counts[task_id][state] += int(count)
    views.update(parts)
    return views


def _run_failed(session: Session, key: tuple[str, str], failures: int, error: Exception, now: datetime) -> None:
    """Mark the run with why it could not be scheduled; peers skip it until a backoff passes."""
    reason = f"{type(error).__name__}: {error}"
    backoff = min(2.0**min(failures, 16), MAX_RUN_BACKOFF)
    if failures == 0:
        log.exception("DAG run %s/%s could not be scheduled; retrying it with backoff", *key, exc_info=error)
    session.execute(
        sa.update(DagRun).where(DagRun.dag_id == key[0], DagRun.run_id == key[1])
        .values(scheduling_error=reason[:4000], scheduling_failures=failures + 1,
                next_scheduling_at=now + timedelta(seconds=backoff), last_scheduling_decision=now)
        .execution_options(synchronize_session=False)
    )


def _apply(session: Session, run: _Run, dag: DagData, plan: Plan, now: datetime) -> int:
    keys = lambda items: plan.keys(run.dag_id, run.run_id, items)
    for task_id in plan.expand:
        plan.schedule.extend(_expand(session, run, dag, task_id, now))
    if plan.check_past:
        blocked = _blocked_by_past(session, run, plan.check_past)
        plan.schedule = [s for s in plan.schedule if s[0] not in blocked]
    transition_tis(session, keys(plan.skip), S.NONE, S.SKIPPED, now=now)
    transition_tis(session, keys(plan.upstream_failed), S.NONE, S.UPSTREAM_FAILED, now=now)
    scheduled = 0
    for from_state in (S.NONE, S.UP_FOR_RETRY):
        items = [(t, m) for t, m, f in plan.schedule if f == from_state]
        scheduled += transition_tis(session, keys(items), from_state, S.SCHEDULED, now=now)
    return scheduled


def _expand(session: Session, run: _Run, dag: DagData, task_id: str, now: datetime) -> list[tuple[str, int, str]]:
    """Replace the placeholder of a mapped task by one task instance per element."""
    length = 1
    for source in dag.tasks[task_id]["mapped"]["sources"]:
        length *= _source_length(session, run, dag, source)
    placeholder = [TiKey(run.dag_id, run.run_id, task_id, -1)]
    if length == 0:
        transition_tis(session, placeholder, S.NONE, S.SKIPPED, now=now)
        return []
    # As Airflow does, the placeholder becomes instance 0 (no state change, so no transition):
    # a run keeps no map_index -1 row that Airflow would not have.
    renumbered = session.execute(
        sa.update(TaskInstance).where(
            TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id, TaskInstance.task_id == task_id,
            TaskInstance.map_index == -1, TaskInstance.state == S.NONE.value,
        ).values(map_index=0).execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not renumbered:
        return []  # another scheduler expanded it first
    rows = task_instance_rows(dag, run.dag_id, run.run_id, [task_id])[0]
    if length > 1:
        session.execute(sa.insert(TaskInstance), [{**rows, "map_index": i} for i in range(1, length)])
        note_bulk_insert(session, TaskInstance.__tablename__, length - 1)
    if dag.tasks[task_id].get("mapped_group"):
        return []  # in a mapped task group each instance follows its own upstream: decided next pass
    return [(task_id, i, S.NONE.value) for i in range(length)]


def _source_length(session: Session, run: _Run, dag: DagData, source: dict[str, Any]) -> int:
    if source["kind"] == "literal":
        return int(source["length"])
    if source["kind"] == "zip":  # ``a.zip(b)``: the shortest, or the longest with a fillvalue
        lengths = [_source_length(session, run, dag, s) for s in source["sources"]]
        return max(lengths) if source["longest"] else min(lengths)
    upstream = source["task_id"]
    query = sa.select(XCom.value).where(
        XCom.dag_id == run.dag_id, XCom.run_id == run.run_id, XCom.task_id == upstream,
        XCom.key == source.get("key", "return_value"),
    )
    if upstream in dag.mapped:
        return len(session.execute(query.where(XCom.map_index >= 0)).all())
    value = session.execute(query.where(XCom.map_index == -1)).scalar_one_or_none()
    return len(value) if isinstance(value, list | dict) else 0


def _blocked_by_past(session: Session, run: _Run, task_ids: set[str]) -> set[str]:
    """Tasks whose instance in the previous run did not succeed or skip (depends_on_past)."""
    previous = session.execute(
        sa.select(DagRun.run_id).where(DagRun.dag_id == run.dag_id, DagRun.logical_date < run.logical_date)
        .order_by(DagRun.logical_date.desc()).limit(1)
    ).scalar_one_or_none()
    if previous is None:
        return set()
    done = {S.SUCCESS.value, S.SKIPPED.value, S.REMOVED.value}
    rows = session.execute(
        sa.select(TaskInstance.task_id, TaskInstance.state)
        .where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == previous,
               TaskInstance.task_id.in_(task_ids))
    ).all()
    return {r.task_id for r in rows if r.state not in done}


def _verify_integrity(session: Session, run: _Run, dag: DagData, tis: list[TiView]) -> list[TiView]:
    """The DAG changed since the run was created: add new tasks, remove vanished ones."""
    existing = {t.task_id for t in tis}
    missing = [t for t in dag.order if t not in existing]
    if missing:
        session.execute(sa.insert(TaskInstance), task_instance_rows(dag, run.dag_id, run.run_id, missing))
        tis = tis + [TiView(t, -1, S.NONE.value) for t in missing]
    vanished = [TiKey(run.dag_id, run.run_id, t.task_id, t.map_index) for t in tis
                if t.task_id not in dag.tasks and t.state in (S.NONE, S.SCHEDULED, S.UP_FOR_RETRY)]
    transition_tis(session, vanished, (S.NONE, S.SCHEDULED, S.UP_FOR_RETRY), S.REMOVED)
    gone = {(k.task_id, k.map_index) for k in vanished}
    run.dag_hash = dag.dag_hash
    return [t if (t.task_id, t.map_index) not in gone else TiView(t.task_id, t.map_index, S.REMOVED.value)
            for t in tis if t.task_id in dag.tasks or (t.task_id, t.map_index) in gone]


def _timed_out(run: _Run, dag: DagData, now: datetime) -> bool:
    timeout = dag.dagrun_timeout
    return bool(timeout and run.start_date and now - run.start_date > timedelta(seconds=timeout))


def _fail_timed_out(session: Session, run: _Run, tis: list[TiView], now: datetime) -> bool:
    unfinished = [TiKey(run.dag_id, run.run_id, t.task_id, t.map_index) for t in tis if S(t.state) in TI_UNFINISHED]
    transition_tis(session, unfinished, TI_UNFINISHED, S.SKIPPED, now=now)
    failed = transition_run(session, run.dag_id, run.run_id, DagRunState.RUNNING, DagRunState.FAILED, now=now)
    log.warning("DAG run %s/%s failed: dagrun_timeout exceeded", run.dag_id, run.run_id)
    if failed:
        instruments.dag_run_finished(run.dag_id, DagRunState.FAILED.value, run.start_date, now)
    return failed
