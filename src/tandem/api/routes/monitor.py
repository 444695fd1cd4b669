"""``/health`` for load balancers (no login) and ``/metrics`` for Prometheus (login unless configured open).

``/health`` answers 200 while the metadata DB is reachable (a replica that cannot reach it
cannot answer anything, so the balancer should drop it) and reports the schedulers' latest
heartbeat without failing on it: a dead scheduler is not this replica's fault.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, get_settings, require
from tandem.api.queries.cluster import latest_scheduler_heartbeat
from tandem.api.schemas import responses as r
from tandem.models import utcnow

router = APIRouter(tags=["Monitoring"])


def health_report(request: Request) -> tuple[int, r.Health]:
    settings = get_settings(request)
    try:
        with db(request) as session:
            session.execute(sa.text("SELECT 1"))
            latest = latest_scheduler_heartbeat(session)
    except sa.exc.SQLAlchemyError:
        return 503, r.Health(metadatabase=r.HealthPart(status="unhealthy"),
                             scheduler=r.SchedulerHealth(status="unknown", latest_scheduler_heartbeat=None))
    alive = latest is not None and utcnow() - latest <= timedelta(seconds=settings.scheduler.node_timeout)
    return 200, r.Health(metadatabase=r.HealthPart(status="healthy"),
                         scheduler=r.SchedulerHealth(status="healthy" if alive else "unhealthy",
                                                     latest_scheduler_heartbeat=latest))


@router.get("/health", response_model=r.Health, responses={503: {"model": r.Health}})
def get_health(request: Request) -> Response:
    status, report = health_report(request)
    return JSONResponse(report.model_dump(mode="json"), status_code=status)


@router.get("/metrics", include_in_schema=False)
async def get_metrics(request: Request) -> Response:
    """Any role's credentials (e.g. a viewer's bearer token in Prometheus' ``authorization``) unless
    ``security.metrics_require_login`` is false: the figures name DAGs, pools and hosts."""
    if get_settings(request).security.metrics_require_login:
        await require(RoleName.VIEWER)(request)
    data = await run_in_threadpool(generate_latest, request.app.state.metrics_registry)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
