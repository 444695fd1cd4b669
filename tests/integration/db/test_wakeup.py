"""Wake-ups between nodes: a commit that notifies wakes listeners at once; the sender's own
wake-up is ignored by the node that sent it; databases without the feature just poll.
The pooled connections of the hot path are not pinged; idle ones are, and a dead one is replaced."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tandem.db import engine as engine_module
from tandem.db.wakeup import Listener, notify

SERVERS = [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)]


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_committed_notification_wakes_other_nodes_only(engine: Engine) -> None:
    listener = Listener.open(engine, ignore="node-a")
    assert listener is not None
    try:
        # Given a wake-up sent by node-a itself, Then node-a's listener ignores it
        with Session(engine) as session:
            notify(session, "node-a")
            session.commit()
        time.sleep(0.1)
        assert not listener.ready()

        # Given a rolled-back one, Then nothing is delivered
        with Session(engine) as session:
            notify(session, "node-b")
            session.rollback()
        assert not listener.ready(0.1)

        # When a peer commits a wake-up, Then the listener wakes within milliseconds
        with Session(engine) as session:
            notify(session, "node-b")
            session.commit()
        started = time.monotonic()
        assert listener.ready(2.0)
        assert time.monotonic() - started < 0.5
        assert not listener.ready()  # consumed
    finally:
        listener.close()


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)], indirect=True)
def test_without_the_feature_there_is_no_listener_and_notify_is_free(engine: Engine) -> None:
    assert Listener.open(engine) is None
    with Session(engine) as session:
        notify(session)
        session.commit()


@pytest.mark.parametrize("db_url", SERVERS, indirect=True)
def test_only_idle_connections_are_pinged_and_a_dead_one_is_replaced(engine: Engine,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[object] = []
    original = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or original(c))
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        dbapi_conn = conn.connection.dbapi_connection  # the pooled connection in use
    # Given a connection used a moment ago, When it is used again, Then it is not pinged
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    assert not pings

    # Given it sat idle and died meanwhile, When it is checked out, Then the ping replaces it
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)
    dbapi_conn.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    assert pings
