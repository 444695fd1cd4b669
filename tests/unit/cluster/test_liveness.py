"""Liveness on the database's clock, and fencing of a node that was declared dead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cluster.nodes import declare_dead, heartbeat_node, live_nodes, register_node
from tandem.db import clock
from tandem.db.session import session_scope
from tandem.models import Node, utcnow
from tests.fixtures.db import ALL_DATABASES


@pytest.fixture
def restore_clock() -> Iterator[None]:
    saved = clock.offset()
    yield
    clock.calibrate(lambda: datetime.now(UTC) + timedelta(seconds=saved))


def test_a_skewed_machine_uses_the_databases_time(restore_clock: None) -> None:
    # Given a database whose clock is 10 minutes ahead of this machine's
    clock.calibrate(lambda: datetime.now(UTC) + timedelta(minutes=10))
    # Then timestamps this process writes and judges by are the database's
    assert abs((utcnow() - datetime.now(UTC)) - timedelta(minutes=10)) < timedelta(seconds=1)


@pytest.mark.parametrize("db_url", ["postgres", "mysql"], indirect=True)
def test_connecting_calibrates_against_the_server(engine: Engine, restore_clock: None) -> None:
    clock.calibrate(lambda: datetime.now(UTC) + timedelta(minutes=10))  # a wrong belief
    engine.dispose()
    with session_scope(engine) as session:
        node_id = register_node(session, "scheduler")
    with session_scope(engine) as session:
        assert heartbeat_node(session, node_id)
    # This machine is the server's machine: once measured, the offset is round-trip noise
    assert abs(clock.offset()) < 1.0


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
def test_a_node_declared_dead_is_fenced_then_revived(engine: Engine) -> None:
    with session_scope(engine) as session:
        node_id = register_node(session, "scheduler")
    # Given a peer that declared it dead while it was paused
    with session_scope(engine) as session:
        assert declare_dead(session, timeout=30, now=utcnow() + timedelta(minutes=5)) == [node_id]
        assert live_nodes(session, timeout=30) == []
    # When it heartbeats again, it learns so (False), and is registered again at once
    with session_scope(engine) as session:
        assert heartbeat_node(session, node_id) is False
    with session_scope(engine) as session:
        assert session.execute(sa.select(Node.state).where(Node.id == node_id)).scalar_one() == "running"
        assert [n.id for n in live_nodes(session, timeout=30)] == [node_id]
        assert heartbeat_node(session, node_id) is True
