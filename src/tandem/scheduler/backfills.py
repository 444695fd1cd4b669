"""The scheduler's side of backfills: which queued backfill runs may start, and in what order.

Two schedulers must not start more of a backfill's runs than its ``max_active_runs``: the
budget is counted under the backfill's row lock (taken with SKIP LOCKED, like the DAG rows in
``start_queued_runs``), so a peer holding it makes this pass leave that backfill's runs alone.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.db.dialects import BaseDialect
from tandem.models import Backfill, BackfillDagRun, DagRun
from tandem.state import DagRunState


def _running_of_backfill() -> sa.ScalarSelect[int]:
    other = sa.orm.aliased(DagRun)
    return (sa.select(sa.func.count()).select_from(other)
            .where(other.backfill_id == Backfill.id, other.state == DagRunState.RUNNING.value).scalar_subquery())


def backfill_runs_may_start() -> sa.ColumnElement[bool]:
    """WHERE clause on queued runs: not of an active backfill that is paused or at its limit.

    Runs of an ended backfill (cleared again by hand later) start like any other run.
    """
    blocked = sa.select(Backfill.id).where(
        Backfill.completed_at.is_(None),
        sa.or_(Backfill.is_paused.is_(True), Backfill.max_active_runs <= _running_of_backfill()),
    )
    return sa.or_(DagRun.backfill_id.is_(None), DagRun.backfill_id.not_in(blocked))


def start_order() -> sa.ColumnElement[Any]:
    """ORDER BY key: other runs first (0), then backfill runs by their place in their backfill,
    so that a long backfill neither starves other runs nor, among backfills, the others (Airflow)."""
    ordinal = (sa.select(BackfillDagRun.sort_ordinal).where(BackfillDagRun.dag_run_id == DagRun.id)
               .limit(1).scalar_subquery())
    return sa.case((DagRun.backfill_id.is_(None), 0), else_=sa.func.coalesce(ordinal, 0))


class BackfillBudget:
    """How many more runs each backfill in a batch may start, counted under the backfills' row locks."""

    def __init__(self, session: Session, dialect: BaseDialect, backfill_ids: set[int | None]) -> None:
        ids = {i for i in backfill_ids if i is not None}
        self._left: dict[int, int | None] = {}
        if not ids:
            return
        rows = session.execute(dialect.skip_locked(
            sa.select(Backfill.id, Backfill.max_active_runs, Backfill.is_paused, Backfill.completed_at)
            .where(Backfill.id.in_(ids)))).all()
        running = dict(session.execute(
            sa.select(DagRun.backfill_id, sa.func.count())
            .where(DagRun.backfill_id.in_([r.id for r in rows]), DagRun.state == DagRunState.RUNNING.value)
            .group_by(DagRun.backfill_id)).all()) if rows else {}
        for backfill_id in ids:
            self._left[backfill_id] = 0  # locked by a peer (or gone): its runs wait for a later pass
        for r in rows:
            if r.completed_at is not None:
                self._left[r.id] = None  # ended: its runs (cleared again by hand) are ordinary runs
            else:
                self._left[r.id] = 0 if r.is_paused else max(0, r.max_active_runs - running.get(r.id, 0))

    def allows(self, backfill_id: int | None) -> bool:
        left = self._left.get(backfill_id) if backfill_id is not None else None
        return left is None or left > 0

    def spend(self, backfill_id: int | None) -> None:
        left = self._left.get(backfill_id) if backfill_id is not None else None
        if backfill_id is not None and left is not None:
            self._left[backfill_id] = left - 1
