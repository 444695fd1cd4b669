"""Prometheus metrics: cluster gauges read from the DB on each scrape, request counters.

The gauges are computed by a collector when Prometheus scrapes, so every replica reports the
same cluster-wide numbers and nothing is kept in memory between scrapes. Request metrics are
per process; they are labelled by route template (not raw path) to keep cardinality bounded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.cluster.nodes import live_nodes
from tandem.config import Settings
from tandem.db.session import session_scope
from tandem.models import DagRun, TaskInstance
from tandem.models import queries as model_queries
from tandem.observability.pools import pool_families

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


class ClusterCollector(Collector):
    """Task instances and DAG runs by state, pool slots, live nodes by role."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("tandem_metadatabase_up", "1 when the metadata DB answered this scrape")
        try:
            families = list(self._from_db())
        except sa.exc.SQLAlchemyError as e:
            log.warning("metrics: metadata DB unreachable: %s", e)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _from_db(self) -> Iterator[Metric]:
        with session_scope(self.engine) as session:
            tis = GaugeMetricFamily("tandem_task_instances", "Task instances by state", labels=["state"])
            for state, n in session.execute(
                sa.select(TaskInstance.state, sa.func.count()).group_by(TaskInstance.state)
            ).tuples():
                tis.add_metric([state], n)
            runs = GaugeMetricFamily("tandem_dag_runs", "DAG runs by state", labels=["state"])
            for state, n in session.execute(sa.select(DagRun.state, sa.func.count()).group_by(DagRun.state)).tuples():
                runs.add_metric([state], n)
            pools = GaugeMetricFamily("tandem_pool_slots", "Pool slots by kind (total, open, used)",
                                      labels=["pool", "kind"])
            for pool in model_queries.list_pools(session):
                pools.add_metric([pool["name"], "total"], pool["slots"])
                pools.add_metric([pool["name"], "open"], pool["open"])
                pools.add_metric([pool["name"], "used"], pool["occupied"])
            nodes = GaugeMetricFamily("tandem_live_nodes", "Nodes heartbeating within node_timeout, by role",
                                      labels=["role"])
            counts: dict[str, int] = {}
            for node in live_nodes(session, timeout=self.settings.scheduler.node_timeout):
                counts[node.role] = counts.get(node.role, 0) + 1
            for role, n in sorted(counts.items()):
                nodes.add_metric([role], n)
            families = [tis, runs, pools, nodes, *pool_families(session)]
        yield from families


class RequestMetrics:
    """Counters and latency histograms of HTTP requests, as plain ASGI middleware."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        # The instruments are made by the app factory: the middleware stack may be built
        # more than once, and a registry refuses a second metric of the same name.
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            template = route_template(scope)
            method = scope.get("method", "")
            self.requests.labels(method, template, str(status)).inc()
            self.latency.labels(method, template).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route's path template with its router prefix, or ``unmatched``."""
    template = getattr(scope.get("route"), "path", None)
    if not template:
        return "unmatched"
    # FastAPI leaves the original (prefix-less) route of an included router in the scope.
    if scope.get("path", "").startswith(API_PREFIX + "/") and not template.startswith(API_PREFIX):
        template = API_PREFIX + template
    return str(template)


def build_registry(engine: Engine, settings: Settings) -> CollectorRegistry:
    """A registry per app, so that several apps in one process (tests) do not clash."""
    registry = CollectorRegistry()
    registry.register(ClusterCollector(engine, settings))
    return registry
