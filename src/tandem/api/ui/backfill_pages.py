"""A DAG's backfills page: each backfill's progress (runs done, running, queued) and its dates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db
from tandem.api.errors import not_found
from tandem.api.queries import dags as dag_queries
from tandem.api.ui.access import page_for
from tandem.api.ui.render import render
from tandem.backfill.progress import backfill_state, list_backfills, read_backfill_dates, read_progress

router = APIRouter(include_in_schema=False)


@router.get("/dags/{dag_id}/backfills")
def dag_backfills(request: Request, dag_id: str,
                  who: Annotated[Identity, Depends(page_for(RoleName.VIEWER))]) -> Response:
    with db(request) as session:
        dag = dag_queries.read_dag(session, dag_id)
        data = dag_queries.read_serialized(session, dag_id)
        if dag is None or data is None:
            raise not_found(f"DAG {dag_id!r}")
        rows, _ = list_backfills(session, dag_id=dag_id, limit=20)
        progress = read_progress(session, [b.id for b in rows])
        items: list[dict[str, Any]] = [
            {"backfill": b, "progress": progress[b.id], "state": backfill_state(b),
             "dates": read_backfill_dates(session, b.id)} for b in rows]
    active = any(i["state"] in ("running", "paused") for i in items)
    return render(request, "dag_backfills.html", who, dag=dag, data=data, backfills=items, tab="backfills",
                  auto_refresh=active)
