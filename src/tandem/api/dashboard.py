"""The dashboard snapshot an api-server serves: DB figures plus health checks, cached briefly.

One snapshot per replica every ``CACHE_SECONDS`` at most, however many browsers poll: the page
refreshes every few seconds and the figures move no faster than heartbeats.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy.engine import Engine

from tandem.api.queries.dashboard import read_dashboard
from tandem.config import Settings
from tandem.db.session import session_scope
from tandem.models import utcnow
from tandem.observability.health import broker_health, database_health

CACHE_SECONDS = 2.0
_lock = threading.Lock()
_cache: dict[int, tuple[float, dict[str, Any]]] = {}


def dashboard_snapshot(engine: Engine, settings: Settings) -> dict[str, Any]:
    key = id(engine)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        database = database_health(engine)
        with session_scope(engine) as session:
            snapshot = read_dashboard(session, utcnow(), settings.scheduler.node_timeout)
        snapshot["database"] = database
        snapshot["broker"] = broker_health(settings)
        snapshot["executor"] = settings.core.executor
        _cache[key] = (time.monotonic(), snapshot)
        return snapshot
