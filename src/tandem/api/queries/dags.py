"""DAG listings with Airflow's filters, and what a DAG page shows about one DAG."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.schemas.filters import Page, apply_order, paginate
from tandem.models import DagCode, DagModel, DagRun, SerializedDagModel

ORDER_COLUMNS = {"dag_id": DagModel.dag_id, "is_paused": DagModel.is_paused,
                 "last_parsed_time": DagModel.last_parsed_time, "next_dagrun": DagModel.next_dagrun,
                 "owners": DagModel.owners, "fileloc": DagModel.fileloc}


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_dags(session: Session, p: Page, *, dag_id_pattern: str | None = None, tags: list[str] | None = None,
              paused: bool | None = None, only_active: bool = True) -> tuple[list[DagModel], int]:
    query = filter_dags(session, sa.select(DagModel), dag_id_pattern=dag_id_pattern, tags=tags, paused=paused,
                        only_active=only_active)
    return paginate(session, apply_order(query, p.order_by, ORDER_COLUMNS, [DagModel.dag_id]), p)


def filter_dags(session: Session, query: sa.Select[Any], *, dag_id_pattern: str | None = None,
                tags: list[str] | None = None, paused: bool | None = None, only_active: bool = True) -> sa.Select[Any]:
    """``query`` (over DagModel) narrowed by Airflow's DAG-list filters."""
    if only_active:
        query = query.where(DagModel.is_active.is_(True))
    if paused is not None:
        query = query.where(DagModel.is_paused.is_(paused))
    if dag_id_pattern:
        query = query.where(DagModel.dag_id.ilike(f"%{_like_escape(dag_id_pattern)}%", escape="\\"))
    if tags:
        # Tags are a JSON list; filtering in Python keeps this portable across the three dialects.
        wanted = set(tags)
        ids = [d for d, t in session.execute(sa.select(DagModel.dag_id, DagModel.tags)).tuples()
               if wanted & set(t or [])]
        query = query.where(DagModel.dag_id.in_(ids))
    return query


def read_dag(session: Session, dag_id: str) -> DagModel | None:
    return session.get(DagModel, dag_id)


def read_serialized(session: Session, dag_id: str) -> dict[str, Any] | None:
    return session.execute(
        sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)
    ).scalar_one_or_none()


def read_source(session: Session, file_token: str) -> DagCode | None:
    return session.get(DagCode, file_token)


def recent_run_states(session: Session, dag_ids: list[str], per_dag: int = 10) -> dict[str, list[DagRun]]:
    """The newest ``per_dag`` runs of each DAG, newest first."""
    if not dag_ids:
        return {}
    ranked = sa.select(
        DagRun, sa.func.row_number().over(partition_by=DagRun.dag_id, order_by=DagRun.logical_date.desc()).label("rn")
    ).where(DagRun.dag_id.in_(dag_ids)).subquery()
    aliased = sa.orm.aliased(DagRun, ranked)
    rows = session.execute(
        sa.select(aliased).where(ranked.c.rn <= per_dag).order_by(ranked.c.dag_id, ranked.c.logical_date.desc())
    ).scalars()
    out: dict[str, list[DagRun]] = {d: [] for d in dag_ids}
    for run in rows:
        out[run.dag_id].append(run)
    return out
