"""Reading backfills with their progress: runs per state, dates skipped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import Backfill, BackfillDagRun, DagRun


@dataclass
class Progress:
    """A backfill's runs by state, and its dates left alone (``skipped``) with why."""

    states: dict[str, int] = field(default_factory=dict)
    skipped: int = 0

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def done(self) -> int:
        return self.states.get("success", 0) + self.states.get("failed", 0)


def backfill_state(backfill: Backfill) -> str:
    """running, paused, completed or cancelled (cancelled: ended while paused, as cancelling does)."""
    if backfill.completed_at is not None:
        return "cancelled" if backfill.is_paused else "completed"
    return "paused" if backfill.is_paused else "running"


def read_progress(session: Session, backfill_ids: Iterable[int]) -> dict[int, Progress]:
    ids = list(backfill_ids)
    out = {i: Progress() for i in ids}
    if not ids:
        return out
    for backfill_id, state, count in session.execute(
        sa.select(DagRun.backfill_id, DagRun.state, sa.func.count())
        .where(DagRun.backfill_id.in_(ids)).group_by(DagRun.backfill_id, DagRun.state)
    ).all():
        if backfill_id is not None:
            out[backfill_id].states[state] = int(count)
    for backfill_id, count in session.execute(
        sa.select(BackfillDagRun.backfill_id, sa.func.count())
        .where(BackfillDagRun.backfill_id.in_(ids), BackfillDagRun.exception_reason.is_not(None))
        .group_by(BackfillDagRun.backfill_id)
    ).all():
        out[backfill_id].skipped = int(count)
    return out


def list_backfills(session: Session, *, dag_id: str | None = None, active: bool | None = None,
                   limit: int = 100, offset: int = 0) -> tuple[list[Backfill], int]:
    """Newest first, with the total count for paging."""
    query = sa.select(Backfill)
    if dag_id is not None:
        query = query.where(Backfill.dag_id == dag_id)
    if active is not None:
        query = query.where(Backfill.completed_at.is_(None) if active else Backfill.completed_at.is_not(None))
    total = int(session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one())
    rows = session.execute(query.order_by(Backfill.id.desc()).limit(limit).offset(offset)).scalars().all()
    return list(rows), total


def read_backfill_dates(session: Session, backfill_id: int) -> list[tuple[BackfillDagRun, DagRun | None]]:
    """Every date of a backfill in start order, with its run (None when the date was skipped)."""
    rows = session.execute(
        sa.select(BackfillDagRun, DagRun).outerjoin(DagRun, DagRun.id == BackfillDagRun.dag_run_id)
        .where(BackfillDagRun.backfill_id == backfill_id).order_by(BackfillDagRun.sort_ordinal)
    ).all()
    return [(bdr, run) for bdr, run in rows]
