"""The home page: the cluster dashboard (nodes, health, queues, the last hour), refreshed live."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.dashboard import dashboard_snapshot
from tandem.api.deps import get_engine, get_settings
from tandem.api.queries.dashboard import RUN_OUTCOMES, TI_OUTCOMES
from tandem.api.ui.access import page_for
from tandem.api.ui.bar_chart import chart_context
from tandem.api.ui.render import render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Identity, Depends(page_for(RoleName.VIEWER))]
REFRESH_SECONDS = 5


@router.get("/")
async def dashboard(request: Request, who: Viewer) -> Response:
    snapshot = await run_in_threadpool(dashboard_snapshot, get_engine(request), get_settings(request))
    outcomes = snapshot["outcomes"]
    return render(request, "dashboard.html", who, d=snapshot, refresh=REFRESH_SECONDS,
                  ti_states=TI_OUTCOMES, run_states=RUN_OUTCOMES,
                  ti_chart=chart_context(outcomes["task_instances"], TI_OUTCOMES, "Task outcomes, last hour"),
                  run_chart=chart_context(outcomes["dag_runs"], RUN_OUTCOMES, "DAG run outcomes, last hour"))
