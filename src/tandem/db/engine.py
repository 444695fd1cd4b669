"""Engine creation: one engine per process and URL, configured for its dialect."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from tandem.config import Settings, get_settings
from tandem.db import clock
from tandem.db.dialects import dialect_for

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def normalize_url(url: str) -> str:
    """Pick Tandem's drivers when the URL names none (psycopg 3, PyMySQL)."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
              "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}.get(parsed.drivername)
    if driver:
        parsed = parsed.set(drivername=driver)
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = normalize_url(url)
    dialect = dialect_for(url)
    engine = sa.create_engine(url, echo=settings.database.echo, **dialect.engine_kwargs(settings))
    dialect.configure_engine(engine, settings)
    _ping_idle_connections(engine)
    if dialect.clock_query is not None:
        _calibrate_on_connect(engine, dialect.clock_query)
    return engine


# A pooled connection unused for longer than this is pinged before use. One in use moments
# ago is not: a ping per checkout was a round trip on every transaction of the hot path, and a
# connection that broke while hot fails one statement, is invalidated with its pool, and the
# caller's retry (every loop has one) gets a fresh connection.
PING_AFTER_IDLE = 2.0


def _ping_idle_connections(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    @sa.event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", float("inf")) <= PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as e:  # noqa: BLE001 - any failure: the pool replaces this connection
            raise sa.exc.DisconnectionError(f"idle connection failed its ping: {e}") from e


# A new connection measures the clock offset again unless it was measured this recently (in
# this process or the parent it was forked from): the offset moves by seconds, not per connect.
CALIBRATION_FRESH = 5.0


def _calibrate_on_connect(engine: Engine, query: str) -> None:
    @sa.event.listens_for(engine, "connect")
    def _calibrate(dbapi_conn: Any, _record: Any) -> None:
        if clock.calibrated_within(CALIBRATION_FRESH):
            return  # e.g. a forked try: its parent measured the offset moments ago
        def read() -> datetime:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute(query)
                value: datetime = cursor.fetchone()[0]
                return value
            finally:
                cursor.close()
                dbapi_conn.rollback()

        clock.calibrate(read)


def get_engine(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (default: the configured metadata DB)."""
    url = normalize_url(url or get_settings().database_url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = create_engine(url)
        return engine


def dispose_engines(*, close: bool = False) -> None:
    """Forget this process's engines.

    A forked child calls it with ``close=False``: it must not reuse its parent's sockets, nor
    close them under the parent. ``close=True`` really closes them (end of a test, shutdown).
    """
    with _lock:
        for engine in _engines.values():
            engine.dispose(close=close)
        _engines.clear()


def release_after_fork() -> None:
    """In a freshly forked child: let go of every DB socket inherited from the parent.

    The parent's pooled sockets are replaced by /dev/null under the same descriptor numbers,
    so this child neither talks on them nor keeps them open. Otherwise a parent killed in the
    middle of a transaction would leave it open (and its row locks held) for as long as any
    child lives. Descriptors stay occupied, so a later garbage-collected close cannot hit a
    reused number. Call before the child opens connections of its own.

    The engines themselves are kept, each with an empty pool of its own: their dialects were
    initialized by the parent, so the child's first connection is one connect, not a new
    engine's server version, schema and type probes (a few round trips on every mapped try).
    """
    with _lock:
        engines = list(_engines.values())
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for engine in engines:
            dialect = dialect_for(engine.url.render_as_string(hide_password=False))
            idle = getattr(engine.pool, "_pool", None)  # a QueuePool's idle connection records
            for record in list(idle.queue) if idle is not None else []:
                fd = dialect.socket_fileno(record.dbapi_connection)
                if fd is not None and fd > 2:
                    os.dup2(devnull, fd)
            engine.dispose(close=False)
    finally:
        os.close(devnull)
