"""Pausing, unpausing, cancelling and completing backfills."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.backfill.create import BackfillError
from tandem.db.dialects import dialect_of
from tandem.models import Backfill, DagRun, utcnow
from tandem.state import DagRunState


def _locked(session: Session, backfill_id: int) -> Backfill:
    backfill = session.execute(dialect_of(session).lock(sa.select(Backfill).where(Backfill.id == backfill_id))
                               ).scalar_one_or_none()
    if backfill is None:
        raise LookupError(f"backfill {backfill_id} not found")
    return backfill


def set_backfill_paused(session: Session, backfill_id: int, paused: bool, *, now: datetime | None = None) -> Backfill:
    """A paused backfill starts no more runs; those running finish."""
    backfill = _locked(session, backfill_id)
    if backfill.completed_at is not None:
        raise BackfillError(f"backfill {backfill_id} has already {'been cancelled' if backfill.is_paused else 'ended'}",
                            status=409)
    backfill.is_paused = paused
    backfill.updated_at = now or utcnow()
    return backfill


def cancel_backfill(session: Session, backfill_id: int, *, now: datetime | None = None) -> Backfill:
    """Stop a backfill for good, as Airflow does: its queued runs fail, its running runs finish.

    The runs are locked (as every user action on runs does) before their queued ones are failed
    through the state writer, so a scheduler starting one at that moment either got there first
    (it runs to its end) or skips it.
    """
    from tandem.models.queries import lock_dag_runs
    from tandem.orchestration.actions import set_dag_run_state

    now = now or utcnow()
    backfill = _locked(session, backfill_id)
    if backfill.completed_at is not None:
        raise BackfillError(f"backfill {backfill_id} has already {'been cancelled' if backfill.is_paused else 'ended'}",
                            status=409)
    backfill.is_paused = True
    backfill.completed_at = backfill.updated_at = now
    session.flush()
    queued = list(session.execute(sa.select(DagRun.run_id).where(
        DagRun.backfill_id == backfill_id, DagRun.state == DagRunState.QUEUED.value).order_by(DagRun.run_id)).scalars())
    if queued:
        lock_dag_runs(session, backfill.dag_id, queued)
        # Read again under the locks: a run a scheduler started meanwhile is left to finish.
        still = session.execute(sa.select(DagRun.run_id).where(
            DagRun.dag_id == backfill.dag_id, DagRun.run_id.in_(queued),
            DagRun.state == DagRunState.QUEUED.value)).scalars().all()
        for run_id in still:
            set_dag_run_state(session, backfill.dag_id, run_id, DagRunState.FAILED, now=now)
    return backfill


def complete_finished_backfills(session: Session, now: datetime) -> int:
    """Mark active, unpaused backfills whose runs have all ended as completed; how many were.

    A paused backfill stays open (its queued runs wait for it to be unpaused or cancelled).
    """
    unfinished = sa.select(DagRun.id).where(DagRun.backfill_id == Backfill.id,
                                            DagRun.state.in_((DagRunState.QUEUED.value, DagRunState.RUNNING.value)))
    result = session.execute(sa.update(Backfill).where(
        Backfill.completed_at.is_(None), Backfill.is_paused.is_(False), ~unfinished.exists(),
    ).values(completed_at=now, updated_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
