"""Every wait on the database is bounded (ARCHITECTURE.md, invariant 11): the server ends idle
transactions and long statements, locks are waited on for a bounded time, and a connection
into a black hole errors instead of hanging. Short limits keep each test to seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tandem.config import Settings, get_settings, reset_settings
from tandem.db.dialects import dialect_for
from tandem.db.engine import create_engine
from tandem.scheduler.critical_section import LockBusy, take_lock
from tests.fixtures.blackhole import BlackHoleProxy

SERVERS = [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)]
SLEEP = {"postgresql": "SELECT pg_sleep(:s)", "mysql": "SELECT SLEEP(:s)"}

#: Limits small enough to watch them act.
FAST = {
    "LOCK_TIMEOUT": "1",
    "STATEMENT_TIMEOUT": "1",
    "IDLE_IN_TRANSACTION_TIMEOUT": "1",
    "TCP_KEEPALIVE_IDLE": "1",
    "TCP_KEEPALIVE_INTERVAL": "1",
    "TCP_KEEPALIVE_COUNT": "2",
    "TCP_USER_TIMEOUT": "3",
    "CONNECT_TIMEOUT": "3",
}


@pytest.fixture
def fast_settings(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Settings:
    for key, value in FAST.items():
        monkeypatch.setenv(f"TANDEM__DATABASE__{key}", value)
    reset_settings()
    return get_settings()


@pytest.fixture
def bounded(fast_settings: Settings, db_url: str) -> Iterator[Callable[..., Engine]]:
    """Engines with the fast limits, on the test's database or on another address."""
    engines: list[Engine] = []

    def make(host: str | None = None, port: int | None = None, **database: float) -> Engine:
        url = sa.engine.make_url(db_url)
        if host is not None:
            url = url.set(host=host, port=port)
        settings = fast_settings.model_copy(
            update={"database": fast_settings.database.model_copy(update=database)}
        )
        eng = create_engine(url.render_as_string(hide_password=False), settings)
        engines.append(eng)
        return eng

    yield make
    for eng in engines:
        eng.dispose()


def _fails_within(seconds: float, action: Callable[[], object]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(sa.exc.DBAPIError) as err:
        action()
    return err.value, time.monotonic() - started


@pytest.mark.parametrize("db_url", SERVERS, indirect=True)
def test_server_ends_a_transaction_left_idle(bounded: Callable[..., Engine]) -> None:
    # Given a connection whose transaction holds the critical-section lock row, then goes idle
    eng = bounded()
    dialect = dialect_for(str(eng.url))
    with eng.connect() as conn:
        conn.exec_driver_sql("SELECT name FROM tandem_lock FOR UPDATE").all()
        time.sleep(2.5)

        # When it is used again, Then the server has ended it (and released the lock)
        error, _ = _fails_within(5, lambda: conn.exec_driver_sql("SELECT 1").all())
    assert dialect.is_retryable(error)
    with eng.begin() as other:  # the lock is free again
        other.exec_driver_sql("SELECT name FROM tandem_lock FOR UPDATE NOWAIT").all()


@pytest.mark.parametrize("db_url", SERVERS, indirect=True)
def test_server_cancels_a_long_statement(bounded: Callable[..., Engine]) -> None:
    eng = bounded()
    dialect = dialect_for(str(eng.url))
    with eng.connect() as conn:
        error, took = _fails_within(5, lambda: conn.execute(sa.text(SLEEP[dialect.name]), {"s": 10}).all())
    assert took < 4, f"a 10 s statement ran {took:.1f} s under a 1 s statement_timeout"
    assert dialect.is_retryable(error)


@pytest.mark.parametrize("db_url", SERVERS, indirect=True)
def test_a_held_lock_is_waited_on_for_lock_timeout_and_reads_as_busy(bounded: Callable[..., Engine]) -> None:
    # Given a frozen peer holding the scheduler's critical-section lock row in an open transaction
    eng = bounded(idle_in_transaction_timeout=30, statement_timeout=30)
    dialect = dialect_for(str(eng.url))
    holder = eng.connect()
    holder.exec_driver_sql("SELECT name FROM tandem_lock FOR UPDATE").all()
    try:
        # When another scheduler waits for the row, and when it takes the lock without waiting
        with eng.connect() as conn:
            error, took = _fails_within(
                5, lambda: conn.exec_driver_sql("UPDATE tandem_lock SET name = name").rowcount
            )
        with Session(eng) as session, pytest.raises(LockBusy):
            take_lock(session, dialect)
    finally:
        holder.close()

    # Then the wait ends after lock_timeout with an error the loops retry, and the lock reads as busy
    assert took < 4
    assert dialect.is_retryable(error)


@pytest.mark.parametrize("db_url", SERVERS, indirect=True)
def test_a_black_holed_connection_errors_within_the_keepalive_bound(
    bounded: Callable[..., Engine], black_hole_proxy: Callable[[tuple[str, int]], BlackHoleProxy], db_url: str
) -> None:
    # Given two connections through a proxy: one idle, one waiting for a statement's answer
    url = sa.engine.make_url(db_url)
    proxy = black_hole_proxy((url.host or "127.0.0.1", url.port or 0))
    eng = bounded(proxy.host, proxy.port)
    dialect = dialect_for(str(eng.url))
    idle, busy = eng.connect(), eng.connect()
    idle.exec_driver_sql("SELECT 1").all()
    waiting: list[tuple[BaseException, float]] = []
    sleeper = threading.Thread(target=lambda: waiting.append(
        _fails_within(20, lambda: busy.execute(sa.text(SLEEP[dialect.name]), {"s": 0.9}).all())))
    try:
        sleeper.start()
        time.sleep(0.2)

        # When the network path turns into a black hole (nothing answers, nothing is closed)
        proxy.black_hole()
        error, took = _fails_within(20, lambda: idle.exec_driver_sql("SELECT 1").all())
        sleeper.join(20)
    finally:
        idle.invalidate()
        busy.invalidate()

    # Then both error within TCP_USER_TIMEOUT / the keepalive probes (3 s here), plus slack
    assert took < 8, f"a black-holed connection took {took:.1f} s to error"
    assert waiting and waiting[0][1] < 8, f"a statement waiting in a black hole: {waiting}"
    assert dialect.is_retryable(error) and dialect.is_retryable(waiting[0][0])
