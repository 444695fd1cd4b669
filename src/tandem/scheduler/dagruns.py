"""Creating DAG runs (scheduled and manual) and starting queued ones."""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.db.dialects import BaseDialect
from tandem.db.statistics import note_bulk_insert
from tandem.db.wakeup import notify
from tandem.models import DagModel, DagRun, SerializedDagModel, TaskInstance, utcnow
from tandem.orchestration import transition_run
from tandem.scheduler.dag_data import DagData, DagDataCache
from tandem.state import DagRunState, TaskInstanceState

log = logging.getLogger(__name__)

ACTIVE_RUN_STATES = (DagRunState.QUEUED.value, DagRunState.RUNNING.value)
# How long a DAG whose next run could not be created waits before schedulers try again.
DAG_RETRY_BACKOFF = timedelta(minutes=1)


class DagNotFound(LookupError):
    pass


class RunExists(ValueError):
    pass


def _timetable(dag: DagData) -> Any:
    from tandem.sdk.timetables import timetable_for

    return timetable_for(dag.data["schedule"], dag.data.get("timezone") or "UTC")


def task_instance_rows(dag: DagData, dag_id: str, run_id: str, task_ids: list[str] | None = None) -> list[dict[str, Any]]:
    rows = []
    for task_id in task_ids if task_ids is not None else dag.order:
        t = dag.tasks[task_id]
        rows.append({
            "dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": -1,
            "state": TaskInstanceState.NONE.value, "try_number": 0, "max_tries": int(t.get("retries") or 0),
            "operator": t.get("operator", ""), "pool": t.get("pool") or "default_pool",
            "pool_slots": int(t.get("pool_slots") or 1), "queue": t.get("queue") or "default",
            "priority_weight": int(t.get("priority_weight") or 1), "hostname": "",
        })
    return rows


def insert_run(session: Session, dag: DagData, *, run_id: str, logical_date: datetime,
                interval: tuple[datetime | None, datetime | None], run_after: datetime, run_type: str,
                conf: dict[str, Any], triggered_by: str, now: datetime) -> DagRun:
    # The bundle version this serialized DAG was parsed from: every try of the run runs it.
    bundle = session.execute(
        sa.select(SerializedDagModel.bundle_name, SerializedDagModel.bundle_version)
        .where(SerializedDagModel.dag_id == dag.dag_id)
    ).first()
    run = DagRun(
        dag_id=dag.dag_id, run_id=run_id, logical_date=logical_date, data_interval_start=interval[0],
        data_interval_end=interval[1], run_after=run_after, run_type=run_type,
        state=DagRunState.QUEUED.value, queued_at=now, conf=conf, dag_hash=dag.dag_hash,
        triggered_by=triggered_by, updated_at=now, last_scheduling_decision=now,
        bundle_name=bundle.bundle_name if bundle else None, bundle_version=bundle.bundle_version if bundle else None,
    )
    session.add(run)
    session.flush()
    rows = task_instance_rows(dag, dag.dag_id, run_id)
    session.execute(sa.insert(TaskInstance), rows)
    note_bulk_insert(session, TaskInstance.__tablename__, len(rows))
    return run


def trigger_dag_run(session: Session, cache: DagDataCache, dag_id: str, *, run_id: str | None = None,
                    conf: dict[str, Any] | None = None, logical_date: datetime | None = None,
                    triggered_by: str = "cli", now: datetime | None = None) -> DagRun:
    """Create a manual run; conf is validated against the DAG's params (ParamValidationError)."""
    from tandem.identifiers import check_identifier
    from tandem.limits import check_conf_size
    from tandem.sdk.params import validate_conf

    now = now or utcnow()
    dag = cache.get(session, dag_id)
    if dag is None or session.get(DagModel, dag_id) is None:
        raise DagNotFound(f"DAG {dag_id!r} not found (has the DAG processor parsed it?)")
    conf = dict(conf or {})
    validate_conf(dag.data.get("params") or {}, conf)
    logical_date = logical_date or now
    interval = _timetable(dag).infer_manual_data_interval(logical_date)
    run_id = run_id or f"manual__{logical_date.isoformat()}"
    check_identifier(run_id, "run id")
    check_conf_size(conf)
    exists = session.execute(
        sa.select(DagRun.run_id).where(
            DagRun.dag_id == dag_id, sa.or_(DagRun.run_id == run_id, DagRun.logical_date == logical_date)
        )
    ).first()
    if exists:
        raise RunExists(f"DAG {dag_id!r} already has a run {exists.run_id!r} with that run id or logical date")
    try:
        with session.begin_nested():
            run = insert_run(session, dag, run_id=run_id, logical_date=logical_date,
                             interval=(interval.start, interval.end), run_after=now, run_type="manual",
                             conf=conf, triggered_by=triggered_by, now=now)
    except sa.exc.IntegrityError:
        raise RunExists(f"DAG {dag_id!r} already has a run with run id {run_id!r} or that logical date") from None
    notify(session)  # schedulers start it as soon as it is committed, not at their next poll
    return run


# The queries every discovery pass runs are built once per dialect and batch size, with the
# pass's time bound: building them costs more CPU than running them on an idle cluster.
def due_dags() -> sa.Select[DagModel]:
    """The DAGs whose next scheduled run is due (unlocked, unordered: ``scheduler.probe`` asks
    whether there is any)."""
    return sa.select(DagModel).where(
        DagModel.is_paused.is_(False), DagModel.is_active.is_(True),
        DagModel.next_dagrun_create_after <= sa.bindparam("now"),
        # As in Airflow 3, a backfill's runs do not hold back the DAG's scheduled runs.
        DagModel.max_active_runs > _count_runs(DagModel.dag_id, ACTIVE_RUN_STATES, exclude_backfill=True))


@functools.lru_cache(maxsize=8)
def _due_dags(dialect: BaseDialect, limit: int) -> sa.Select[DagModel]:
    return dialect.skip_locked(due_dags().order_by(DagModel.next_dagrun_create_after).limit(limit))


def create_scheduled_runs(session: Session, dialect: BaseDialect, cache: DagDataCache, now: datetime,
                          limit: int) -> int:
    """Create the runs that are due; DAG rows are locked so each run is created once.

    DAGs at their max_active_runs are left out in the query, so they cannot fill the batch and
    starve the others. A DAG whose next run cannot be computed (a timetable that raises, an
    unreadable serialized DAG) is marked with the reason and retried later with backoff.
    """
    due = session.execute(_due_dags(dialect, limit), {"now": now}).scalars().all()
    if not due:
        return 0
    dags = cache.get_many(session, [d.dag_id for d in due])
    created = 0
    for row in due:
        dag = dags.get(row.dag_id)
        try:
            with session.begin_nested():
                if dag is None:
                    raise LookupError(cache.unreadable.get(row.dag_id, "it has no serialized version"))
                created += _create_next_run(session, row, dag, now)
        except sa.exc.DBAPIError as e:
            if dialect.is_retryable(e):
                raise
            _dag_failed(row, e, now)
        except Exception as e:  # noqa: BLE001 - one DAG's fault stays that DAG's
            _dag_failed(row, e, now)
    return created


def _count_runs(dag_id: Any, states: tuple[str, ...], *, exclude_backfill: bool = False) -> sa.ScalarSelect[int]:
    """Correlated count of a DAG's runs in ``states`` (for limits checked inside the query)."""
    other = sa.orm.aliased(DagRun)
    query = sa.select(sa.func.count()).select_from(other).where(other.dag_id == dag_id, other.state.in_(states))
    if exclude_backfill:
        query = query.where(other.run_type != "backfill")
    return query.scalar_subquery()


def _create_next_run(session: Session, row: DagModel, dag: DagData, now: datetime) -> int:
    assert row.next_dagrun is not None
    logical_date = row.next_dagrun
    interval = (row.next_dagrun_data_interval_start, row.next_dagrun_data_interval_end)
    created = 0
    try:
        with session.begin_nested():
            insert_run(session, dag, run_id=f"scheduled__{logical_date.isoformat()}", logical_date=logical_date,
                       interval=interval, run_after=row.next_dagrun_create_after or now, run_type="scheduled",
                       conf={}, triggered_by="scheduler", now=now)
        created = 1
    except sa.exc.IntegrityError:
        pass  # a peer (or an earlier life of this scheduler) created it; just move on
    advance_next_dagrun(row, dag, last_interval=interval, now=now)
    row.scheduling_error = None
    return created


def _dag_failed(row: DagModel, error: Exception, now: datetime) -> None:
    """Record why the DAG's next run could not be created; try again after a backoff."""
    reason = f"creating the next run failed: {type(error).__name__}: {error}"
    if row.scheduling_error != reason:
        log.error("DAG %s: %s", row.dag_id, reason)
    row.scheduling_error = reason
    row.next_dagrun_create_after = now + DAG_RETRY_BACKOFF


def advance_next_dagrun(row: DagModel, dag: DagData, *, last_interval: tuple[datetime | None, datetime | None] | None,
                        now: datetime) -> None:
    """Store the DAG's next scheduled run after ``last_interval`` (None: from the start)."""
    from tandem.sdk.timetables import DataInterval

    start, end = last_interval or (None, None)
    last = DataInterval(start, end) if start is not None and end is not None else None
    info = _timetable(dag).next_dagrun_info(
        last_automated_interval=last, start_date=dag.start_date(), end_date=dag.end_date(),
        catchup=bool(dag.data.get("catchup")), now=now,
    )
    if info is None:
        row.next_dagrun = row.next_dagrun_data_interval_start = None
        row.next_dagrun_data_interval_end = row.next_dagrun_create_after = None
    else:
        row.next_dagrun = info.logical_date
        row.next_dagrun_data_interval_start = info.data_interval.start
        row.next_dagrun_data_interval_end = info.data_interval.end
        row.next_dagrun_create_after = info.run_after


def runs_to_start(only: tuple[str, str] | None = None) -> sa.Select[str, str, int | None, int]:
    """The queued runs that may start (unlocked, unordered: ``scheduler.probe`` asks whether
    there is any)."""
    from tandem.scheduler.backfills import backfill_runs_may_start

    query = (
        sa.select(DagRun.dag_id, DagRun.run_id, DagRun.backfill_id, DagModel.max_active_runs)
        .join(DagModel, DagModel.dag_id == DagRun.dag_id)
        .where(DagRun.state == DagRunState.QUEUED.value, DagRun.run_after <= sa.bindparam("now"),
               DagModel.max_active_runs > _count_runs(DagRun.dag_id, (DagRunState.RUNNING.value,)),
               backfill_runs_may_start())
    )
    if only is not None:
        return query.where(DagRun.dag_id == only[0], DagRun.run_id == only[1])
    return query.where(DagModel.is_paused.is_(False))


@functools.lru_cache(maxsize=8)
def _runs_to_start(dialect: BaseDialect, limit: int,
                   only: tuple[str, str] | None) -> sa.Select[str, str, int | None, int]:
    from tandem.scheduler.backfills import start_order

    return dialect.skip_locked(runs_to_start(only).order_by(start_order(), DagRun.logical_date).limit(limit))


def start_queued_runs(session: Session, dialect: BaseDialect, now: datetime, limit: int, *,
                      only: tuple[str, str] | None = None) -> int:
    """queued -> running for as many runs as each DAG's max_active_runs allows, cluster-wide.

    The DAG rows are locked along with the runs, so two schedulers never both start runs of
    one DAG on a stale count. DAGs at their limit are left out in the query (no starvation);
    a paused DAG's runs wait, as in Airflow (``dags test`` runs its own run regardless).
    """
    from tandem.scheduler.backfills import BackfillBudget

    queued = session.execute(_runs_to_start(dialect, limit, only), {"now": now}).all()
    if not queued:
        return 0
    running = dict(session.execute(
        sa.select(DagRun.dag_id, sa.func.count())
        .where(DagRun.dag_id.in_({r.dag_id for r in queued}), DagRun.state == DagRunState.RUNNING.value)
        .group_by(DagRun.dag_id)
    ).all())
    backfills = BackfillBudget(session, dialect, {r.backfill_id for r in queued})
    started = 0
    for r in queued:
        if running.get(r.dag_id, 0) >= r.max_active_runs or not backfills.allows(r.backfill_id):
            continue
        if transition_run(session, r.dag_id, r.run_id, DagRunState.QUEUED, DagRunState.RUNNING, now=now):
            running[r.dag_id] = running.get(r.dag_id, 0) + 1
            backfills.spend(r.backfill_id)
            started += 1
    return started
