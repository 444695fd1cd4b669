"""``/cluster/dashboard`` (what the home page shows, as JSON) and ``/cluster/metrics-targets``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from tandem.api.auth.roles import RoleName
from tandem.api.dashboard import dashboard_snapshot
from tandem.api.deps import db, get_engine, get_settings, require
from tandem.api.queries.dashboard import read_nodes
from tandem.models import utcnow

router = APIRouter(dependencies=[Depends(require(RoleName.VIEWER))], tags=["Cluster"])


@router.get("/cluster/dashboard")
async def get_cluster_dashboard(request: Request) -> dict[str, Any]:
    """Nodes with their load, DB and broker health, queue depths, the last hour's outcomes."""
    return await run_in_threadpool(dashboard_snapshot, get_engine(request), get_settings(request))


@router.get("/cluster/metrics-targets")
def get_metrics_targets(request: Request) -> list[dict[str, Any]]:
    """Every live node's metrics endpoint, in Prometheus HTTP service discovery format."""
    settings = get_settings(request)
    with db(request) as session:
        nodes = read_nodes(session, utcnow(), settings.scheduler.node_timeout)
    targets = []
    for n in nodes:
        url = n["metrics_url"]
        if n["state"] != "alive" or not url.startswith(("http://", "https://")):
            continue
        scheme, rest = url.split("://", 1)
        host, _, path = rest.partition("/")
        targets.append({"targets": [host], "labels": {
            "__scheme__": scheme, "__metrics_path__": "/" + path, "role": n["role"], "node_id": n["id"],
            "hostname": n["hostname"]}})
    return targets
