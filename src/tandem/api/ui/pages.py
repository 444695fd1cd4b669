"""The UI's router: overview pages here, the rest in one module per area."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, get_settings
from tandem.api.queries import cluster as cluster_queries
from tandem.api.queries import dags as dag_queries
from tandem.api.schemas.filters import Page
from tandem.api.ui import (
    admin_pages,
    asset_pages,
    backfill_pages,
    dag_history_pages,
    dag_pages,
    dashboard_page,
    login,
    task_pages,
)
from tandem.api.ui.access import page_for
from tandem.api.ui.dag_list import sorted_dags
from tandem.api.ui.grid import ACTIVE_RUN_STATES
from tandem.api.ui.render import render
from tandem.models import ImportError_, utcnow

router = APIRouter(include_in_schema=False)
for _module in (login, dashboard_page, dag_pages, task_pages, admin_pages, backfill_pages, dag_history_pages,
                asset_pages):
    router.include_router(_module.router)
Viewer = Annotated[Identity, Depends(page_for(RoleName.VIEWER))]
PAGE_SIZE = 50


@router.get("/dags")
def dag_list(request: Request, who: Viewer, search: Annotated[str, Query(max_length=200)] = "",
             tag: Annotated[str, Query(max_length=200)] = "", status: str = "all",
             page: Annotated[int, Query(ge=1, le=100_000)] = 1,
             sort: Annotated[str, Query(max_length=20)] = "dag_id") -> Response:
    paused = {"active": False, "paused": True}.get(status)
    with db(request) as session:
        rows, total = sorted_dags(session, Page(PAGE_SIZE, (page - 1) * PAGE_SIZE, None), sort,
                                  dag_id_pattern=search or None, tags=[tag] if tag else None, paused=paused)
        recent = dag_queries.recent_run_states(session, [d.dag_id for d in rows], per_dag=10)
        errors = int(session.execute(sa.select(sa.func.count()).select_from(ImportError_)).scalar_one())
    running = any(r.state in ACTIVE_RUN_STATES for runs in recent.values() for r in runs)
    return render(request, "dags.html", who, dags=rows, recent=recent, total=total, search=search, tag=tag,
                  status=status, sort=sort, page=page, pages=max(1, -(-total // PAGE_SIZE)), import_error_count=errors,
                  auto_refresh=running)


@router.get("/import-errors")
def import_errors(request: Request, who: Viewer) -> Response:
    with db(request) as session:
        rows = list(session.execute(sa.select(ImportError_).order_by(ImportError_.filename)).scalars())
    return render(request, "import_errors.html", who, errors=rows)


@router.get("/cluster")
def cluster(request: Request, who: Viewer) -> Response:
    settings = get_settings(request)
    with db(request) as session:
        nodes, _ = cluster_queries.list_nodes(session, Page(500, 0, None))
    now = utcnow()
    rows = [(n, (now - n.last_heartbeat).total_seconds(),
             cluster_queries.is_alive(n, now, settings.scheduler.node_timeout)) for n in nodes]
    return render(request, "cluster.html", who, nodes=rows, node_timeout=settings.scheduler.node_timeout,
                  auto_refresh=True)
