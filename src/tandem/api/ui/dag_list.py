"""The DAG list page's query: the REST API's filters, plus sorting by any shown column.

``sort`` is a column name, ``-`` in front for descending. Nulls (no next run, never run) sort
last either way, the same on SQLite, PostgreSQL and MySQL, which disagree by default.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.errors import ApiError
from tandem.api.queries.dags import filter_dags
from tandem.api.schemas.filters import Page, paginate
from tandem.models import DagModel, DagRun

LAST_RUN = sa.select(sa.func.max(DagRun.logical_date)).where(DagRun.dag_id == DagModel.dag_id) \
    .correlate(DagModel).scalar_subquery()
SORTS: dict[str, Any] = {"dag_id": DagModel.dag_id, "owner": DagModel.owners, "schedule": DagModel.timetable_summary,
                         "next_run": DagModel.next_dagrun, "last_run": LAST_RUN, "active": DagModel.is_paused}
DEFAULT_SORT = "dag_id"


def parse_sort(sort: str) -> tuple[str, bool]:
    name, descending = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if name not in SORTS:
        raise ApiError(400, f"cannot sort DAGs by {name!r}; use one of: {', '.join(SORTS)} (prefix - to reverse)")
    return name, descending


def sorted_dags(session: Session, p: Page, sort: str, **filters: Any) -> tuple[list[DagModel], int]:
    name, descending = parse_sort(sort or DEFAULT_SORT)
    column = SORTS[name]
    if name == "active":  # is_paused sorts the other way round
        descending = not descending
    query = filter_dags(session, sa.select(DagModel), **filters)
    nulls_last = sa.case((column.is_(None), 1), else_=0)
    query = query.order_by(nulls_last, column.desc() if descending else column.asc(), DagModel.dag_id)
    return paginate(session, query, p)
