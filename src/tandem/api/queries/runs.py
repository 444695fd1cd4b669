"""DAG run listings and deletion."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.schemas.filters import Page, apply_order, paginate
from tandem.models import DagRun, TaskInstance, TaskTry, XCom
from tandem.models.queries import lock_dag_runs

ORDER_COLUMNS = {"id": DagRun.id, "dag_id": DagRun.dag_id, "dag_run_id": DagRun.run_id, "state": DagRun.state,
                 "logical_date": DagRun.logical_date, "execution_date": DagRun.logical_date,
                 "start_date": DagRun.start_date, "end_date": DagRun.end_date, "run_type": DagRun.run_type,
                 "queued_at": DagRun.queued_at}


def list_runs(session: Session, p: Page, *, dag_id: str | None, states: list[str] | None = None,
              logical_date_gte: datetime | None = None, logical_date_lte: datetime | None = None,
              start_date_gte: datetime | None = None, start_date_lte: datetime | None = None,
              end_date_gte: datetime | None = None, end_date_lte: datetime | None = None,
              run_type: list[str] | None = None) -> tuple[list[DagRun], int]:
    """Runs of ``dag_id`` (every DAG when None), newest first unless ordered otherwise."""
    query = sa.select(DagRun)
    if dag_id is not None:
        query = query.where(DagRun.dag_id == dag_id)
    if states:
        query = query.where(DagRun.state.in_(states))
    if run_type:
        query = query.where(DagRun.run_type.in_(run_type))
    for column, low, high in ((DagRun.logical_date, logical_date_gte, logical_date_lte),
                              (DagRun.start_date, start_date_gte, start_date_lte),
                              (DagRun.end_date, end_date_gte, end_date_lte)):
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column <= high)
    query = apply_order(query, p.order_by, ORDER_COLUMNS, [DagRun.logical_date.desc(), DagRun.id.desc()])
    return paginate(session, query, p)


def read_run(session: Session, dag_id: str, run_id: str) -> DagRun | None:
    return session.execute(
        sa.select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
    ).scalar_one_or_none()


def delete_run(session: Session, dag_id: str, run_id: str) -> bool:
    """Delete a run and its task instances, tries and XComs (children first: SQLite may not cascade)."""
    lock_dag_runs(session, dag_id, [run_id])
    for table in (XCom, TaskTry, TaskInstance):
        session.execute(sa.delete(table).where(table.dag_id == dag_id, table.run_id == run_id))
    result = session.execute(sa.delete(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
