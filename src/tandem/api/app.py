"""``create_app(settings)``: the FastAPI application of one api-server replica."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from prometheus_client import Counter, Histogram
from sqlalchemy.engine import Engine
from starlette.staticfiles import StaticFiles

from tandem import __version__
from tandem.api.errors import install_error_handlers
from tandem.api.metrics import RequestMetrics, build_registry
from tandem.api.middleware import AuditWrites, SecureHeaders
from tandem.config import ConfigError, Settings, get_settings
from tandem.scheduler.dag_data import DagDataCache

STATIC = Path(__file__).parent / "ui" / "static"
API_PREFIX = "/api/v1"


def _api_router() -> APIRouter:
    from tandem.api.routes import (
        assets,
        audit,
        backfills,
        connections,
        dag_bundles,
        dag_runs,
        dags,
        dashboard,
        logs,
        misc,
        monitor,
        pools,
        task_instances,
        transfer,
        users,
        variables,
        xcoms,
    )

    api = APIRouter(prefix=API_PREFIX)
    # Order matters where paths overlap: ``.../taskInstances/{task_id}/xcomEntries`` must be
    # tried before ``.../taskInstances/{task_id}/{map_index}``.
    for module in (dags, dag_runs, logs, xcoms, task_instances, transfer, variables, connections, pools, misc,
                   users, audit, assets, dag_bundles, dashboard, backfills):
        api.include_router(module.router)
    api.add_api_route("/health", monitor.get_health, methods=["GET"], tags=["Monitoring"],
                      response_model=None, include_in_schema=True)
    return api


# Placeholders from docs and other projects' defaults: a key anyone can read forges any session
# (Airflow CVE-2020-17526, whose default was "temporary_key").
KNOWN_KEYS = frozenset({"temporary_key", "changeme", "change-me", "secret", "secret_key", "your-secret-key",
                        "supersecret", "development", "test"})


def check_secret_key(settings: Settings) -> None:
    key = settings.api.secret_key
    minimum = settings.security.min_secret_key_length
    if key.lower() in KNOWN_KEYS or len(key) < minimum:
        raise ConfigError(f"api.secret_key is a well-known or short key (under {minimum} characters; "
                          "security.min_secret_key_length): anyone could forge sessions. Set a long random one, "
                          "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               register_node: bool = False) -> FastAPI:
    """Build the app; with ``register_node`` it also joins the cluster as an ``api-server`` node."""
    from tandem.api.routes import monitor
    from tandem.api.ui import pages

    settings = settings or get_settings()
    if not settings.api.secret_key:
        raise ConfigError("api.secret_key is not set: sessions cannot be signed. Set it (the same on every "
                          "node) in tandem.toml or TANDEM__API__SECRET_KEY")
    check_secret_key(settings)
    if engine is None:
        from tandem.db.engine import get_engine

        engine = get_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        node = None
        if register_node:
            from tandem.api.node import ApiServerNode

            node = ApiServerNode(engine, settings)
            node.start()
        try:
            yield
        finally:
            if node is not None:
                node.stop()

    app = FastAPI(
        title="Tandem API", version=__version__, lifespan=lifespan,
        description="Airflow-compatible REST API (v1) of a Tandem cluster.",
        openapi_url=f"{API_PREFIX}/openapi.json", docs_url=None, redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.dag_cache = DagDataCache()
    registry = build_registry(engine, settings)
    app.state.metrics_registry = registry
    install_error_handlers(app)
    app.include_router(_api_router())
    app.include_router(monitor.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    requests = Counter("tandem_api_requests", "HTTP requests answered", ["method", "route", "status"],
                       registry=registry)
    latency = Histogram("tandem_api_request_duration_seconds", "Time to answer an HTTP request",
                        ["method", "route"], registry=registry)
    app.add_middleware(RequestMetrics, requests=requests, latency=latency)
    app.add_middleware(AuditWrites)
    app.add_middleware(SecureHeaders)
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` (one per worker process when api.workers > 1)."""
    return create_app(get_settings(), register_node=True)
