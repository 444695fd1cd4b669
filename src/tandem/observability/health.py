"""Health of what every node depends on: the metadata DB and, with Celery, the broker.

Each check is bounded (a timeout of about a second) and the broker's answer is cached per
process for a few seconds, so a dashboard polled by many browsers pings it rarely.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import Settings

BROKER_TIMEOUT = 1.5
BROKER_CACHE_SECONDS = 10.0
_broker_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def database_health(engine: Engine) -> dict[str, Any]:
    """Dialect, the latency of a trivial query on a pooled connection, the pool's use."""
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1")).scalar_one()
        ok, error = True, ""
    except sa.exc.SQLAlchemyError as e:
        ok, error = False, str(e).splitlines()[0]
    latency = (time.perf_counter() - started) * 1000
    pool = engine.pool
    # QueuePool counts overflow from -size (connections not yet opened): show only what is in use.
    figures = {"size": _call(pool, "size"), "in use": _call(pool, "checkedout"),
               "idle": _call(pool, "checkedin"), "overflow": max(_call(pool, "overflow") or 0, 0)}
    return {"ok": ok, "error": error, "dialect": engine.dialect.name, "latency_ms": round(latency, 2),
            "pool": {k: v for k, v in figures.items() if v is not None}, "pool_class": type(pool).__name__}


def _call(pool: Any, name: str) -> int | None:
    method = getattr(pool, name, None)
    try:
        return int(method()) if callable(method) else None
    except Exception:  # noqa: BLE001 - pools differ in what they can count
        return None


def broker_health(settings: Settings) -> dict[str, Any] | None:
    """None unless the executor is Celery; else whether the broker answered, and how fast."""
    if settings.core.executor != "celery":
        return None
    url = settings.celery.broker_url
    cached = _broker_cache.get(url)
    if cached is not None and time.monotonic() - cached[0] < BROKER_CACHE_SECONDS:
        return cached[1]
    answer = _ping(url)
    _broker_cache[url] = (time.monotonic(), answer)
    return answer


def _ping(url: str) -> dict[str, Any]:
    from kombu.utils.url import maybe_sanitize_url

    kind = "redis" if url.startswith(("redis://", "rediss://")) else "rabbitmq" if url.startswith("amqp") else url.split(":")[0]
    started = time.perf_counter()
    try:
        if kind == "redis":
            import redis

            client = redis.Redis.from_url(url, socket_timeout=BROKER_TIMEOUT, socket_connect_timeout=BROKER_TIMEOUT)
            try:
                client.ping()
            finally:
                client.close()
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=BROKER_TIMEOUT) as conn:
                conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        ok, error = True, ""
    except Exception as e:  # noqa: BLE001 - every transport raises its own errors
        ok, error = False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return {"ok": ok, "error": error, "kind": kind, "url": str(maybe_sanitize_url(url)),
            "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
