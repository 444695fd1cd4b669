"""Planning and creating a backfill: validation, the dates, what happens to runs already there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.backfill.dates import backfill_infos
from tandem.db.dialects import dialect_of
from tandem.models import Backfill, BackfillDagRun, DagModel, DagRun, SerializedDagModel, utcnow
from tandem.state import RUN_TERMINAL, DagRunState

#: Most runs one backfill may make; a longer range is refused with a message saying so.
MAX_RUNS = 10_000
RUN_TYPE = "backfill"


class ReprocessBehavior(StrEnum):
    """What a backfill does at a date that already has a finished run (Airflow's names)."""

    NONE = "none"  # keep every existing run
    FAILED = "failed"  # run the failed ones again
    COMPLETED = "completed"  # run every finished one again


class BackfillError(ValueError):
    """A backfill that cannot be made or changed; ``status`` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class BackfillRequest:
    dag_id: str
    from_date: datetime
    to_date: datetime
    max_active_runs: int = 10
    reprocess_behavior: ReprocessBehavior = ReprocessBehavior.NONE
    run_backwards: bool = False
    dag_run_conf: dict[str, Any] = field(default_factory=dict)
    triggering_user_name: str | None = None


@dataclass(frozen=True)
class PlannedRun:
    """One date of the plan: ``action`` is create, clear (re-run an existing run) or skip."""

    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    run_after: datetime
    sort_ordinal: int
    action: str
    reason: str | None = None
    run_id: str | None = None


def _serialized(session: Session, dag_id: str) -> tuple[dict[str, Any], str]:
    from tandem.scheduler.dagruns import DagNotFound

    row = session.execute(sa.select(SerializedDagModel.data, SerializedDagModel.dag_hash)
                          .where(SerializedDagModel.dag_id == dag_id)).first()
    if row is None or session.get(DagModel, dag_id) is None:
        raise DagNotFound(f"DAG {dag_id!r} not found (has the DAG processor parsed it?)")
    return row.data, row.dag_hash


def _validate(request: BackfillRequest, data: dict[str, Any], now: datetime) -> None:
    from tandem.limits import check_conf_size
    from tandem.sdk.params import validate_conf

    for name, value in (("from_date", request.from_date), ("to_date", request.to_date)):
        if value.tzinfo is None:
            raise BackfillError(f"{name} needs a time zone (e.g. 2024-01-01T00:00:00Z)")
    if request.from_date > request.to_date:
        raise BackfillError(f"from_date ({request.from_date.isoformat()}) must not be after to_date "
                            f"({request.to_date.isoformat()})")
    if request.from_date >= now:
        raise BackfillError(f"from_date ({request.from_date.isoformat()}) is in the future: a backfill runs past "
                            "dates only")
    if not 1 <= request.max_active_runs <= 1000:
        raise BackfillError(f"max_active_runs must be between 1 and 1000, not {request.max_active_runs}")
    if any(t.get("depends_on_past") for t in data.get("tasks", [])):
        if request.run_backwards:
            raise BackfillError("the DAG has tasks with depends_on_past=True: a backfill cannot run backwards")
        if request.reprocess_behavior == ReprocessBehavior.NONE:
            raise BackfillError("the DAG has tasks with depends_on_past=True: choose reprocess behaviour "
                                "'failed' or 'completed'")
    validate_conf(data.get("params") or {}, dict(request.dag_run_conf))
    check_conf_size(request.dag_run_conf)


def _skip_reason(state: str, behavior: ReprocessBehavior) -> str | None:
    """Why an existing run at a backfilled date is left alone, or None to run it again."""
    if state not in RUN_TERMINAL:
        return "in flight"
    if behavior == ReprocessBehavior.NONE or (behavior == ReprocessBehavior.FAILED and state != DagRunState.FAILED):
        return "already exists"
    return None


def plan_backfill(session: Session, request: BackfillRequest, *, now: datetime | None = None) -> list[PlannedRun]:
    """The runs a backfill would make, in start order; raises BackfillError/DagNotFound when it cannot."""
    now = now or utcnow()
    data, _ = _serialized(session, request.dag_id)
    _validate(request, data, now)
    try:
        infos = backfill_infos(data, request.from_date, request.to_date, now=now, limit=MAX_RUNS)
    except ValueError as e:
        raise BackfillError(str(e)) from None
    if request.run_backwards:
        infos.reverse()
    existing: dict[datetime, tuple[str, str]] = {}
    if infos:
        dates = [i.logical_date for i in infos]
        existing = {r.logical_date: (r.run_id, r.state) for r in session.execute(
            sa.select(DagRun.logical_date, DagRun.run_id, DagRun.state)
            .where(DagRun.dag_id == request.dag_id, DagRun.logical_date >= min(dates),
                   DagRun.logical_date <= max(dates)))}
    plan = []
    for ordinal, info in enumerate(infos, start=1):
        found = existing.get(info.logical_date)
        reason = _skip_reason(found[1], request.reprocess_behavior) if found else None
        action = "create" if found is None else ("skip" if reason else "clear")
        plan.append(PlannedRun(info.logical_date, info.data_interval.start, info.data_interval.end, info.run_after,
                               ordinal, action, reason, found[0] if found else None))
    return plan


def create_backfill(session: Session, request: BackfillRequest, *, now: datetime | None = None) -> Backfill:
    """Create the backfill and its queued runs in the caller's transaction.

    The DAG's row is locked first, so two requests (on any nodes) cannot both find no active
    backfill and create one each.
    """
    from tandem.identifiers import check_identifier
    from tandem.scheduler.dag_data import DagData
    from tandem.scheduler.dagruns import insert_run

    now = now or utcnow()
    data, dag_hash = _serialized(session, request.dag_id)
    session.execute(dialect_of(session).lock(sa.select(DagModel.dag_id).where(DagModel.dag_id == request.dag_id)))
    active = session.execute(sa.select(Backfill.id).where(Backfill.dag_id == request.dag_id,
                                                          Backfill.completed_at.is_(None))).scalar()
    if active is not None:
        raise BackfillError(f"DAG {request.dag_id!r} already has an active backfill (id {active}): a DAG has one "
                            "at a time; cancel it or wait for it to finish", status=409)
    plan = plan_backfill(session, request, now=now)
    if not any(p.action != "skip" for p in plan):
        raise BackfillError("no runs to create: " + ("every date in the range already has a run (see "
                            "reprocess_behavior)" if plan else "the range holds no completed interval of the "
                            "DAG's schedule"))
    backfill = Backfill(dag_id=request.dag_id, from_date=request.from_date, to_date=request.to_date,
                        dag_run_conf=dict(request.dag_run_conf), is_paused=False,
                        max_active_runs=request.max_active_runs, reprocess_behavior=request.reprocess_behavior.value,
                        run_backwards=request.run_backwards, triggering_user_name=request.triggering_user_name,
                        created_at=now, updated_at=now)
    session.add(backfill)
    session.flush()
    dag = DagData(data, dag_hash)
    for p in plan:
        run_pk: int | None = None
        if p.action == "create":
            run_id = check_identifier(f"{RUN_TYPE}__{p.logical_date.isoformat()}", "run id")
            run = insert_run(session, dag, run_id=run_id, logical_date=p.logical_date,
                             interval=(p.data_interval_start, p.data_interval_end), run_after=p.run_after,
                             run_type=RUN_TYPE, conf=dict(request.dag_run_conf), triggered_by="backfill", now=now)
            run.backfill_id = backfill.id
            run_pk = run.id
        elif p.action == "clear":
            assert p.run_id is not None
            run_pk = _rerun(session, request, backfill.id, p.run_id, now)
        session.add(BackfillDagRun(backfill_id=backfill.id, dag_run_id=run_pk, logical_date=p.logical_date,
                                   exception_reason=p.reason, sort_ordinal=p.sort_ordinal))
    session.flush()
    return backfill


def _rerun(session: Session, request: BackfillRequest, backfill_id: int, run_id: str, now: datetime) -> int:
    """Clear a finished run so it runs again as part of the backfill."""
    from tandem.orchestration import transition_run
    from tandem.orchestration.actions import clear_task_instances

    clear_task_instances(session, request.dag_id, run_ids=[run_id], now=now)
    run = session.execute(sa.select(DagRun).where(DagRun.dag_id == request.dag_id, DagRun.run_id == run_id)
                          ).scalar_one()
    session.refresh(run)
    if run.state in RUN_TERMINAL:  # nothing to clear in it (no task had run): queue it all the same
        transition_run(session, request.dag_id, run_id, RUN_TERMINAL, DagRunState.QUEUED, now=now)
    values: dict[str, Any] = {"run_type": RUN_TYPE, "triggered_by": "backfill", "backfill_id": backfill_id}
    if request.dag_run_conf:
        values["conf"] = dict(request.dag_run_conf)
    session.execute(sa.update(DagRun).where(DagRun.id == run.id).values(**values))
    return run.id
