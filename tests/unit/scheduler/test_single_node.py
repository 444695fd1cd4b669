"""SQLite is one node: a second scheduler is refused while the first one's process exists."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cluster.nodes import register_node
from tandem.config import get_settings
from tandem.db.session import session_scope
from tandem.models import Node, utcnow
from tandem.scheduler.service import SchedulerRefused, check_single_node


def _scheduler_row(engine: Engine, pid: int, state: str) -> None:
    with session_scope(engine) as session:
        node_id = register_node(session, "scheduler")
        session.execute(sa.update(Node).where(Node.id == node_id).values(
            pid=pid, state=state, last_heartbeat=utcnow() - timedelta(hours=1)))


@pytest.mark.parametrize("state", ["running", "dead"])
def test_a_paused_scheduler_past_its_timeout_still_holds_sqlite(engine: Engine, state: str) -> None:
    # Given a scheduler process that exists but has not heartbeaten for an hour (SIGSTOP)
    paused = subprocess.Popen(["sleep", "30"])
    try:
        _scheduler_row(engine, paused.pid, state)
        with pytest.raises(SchedulerRefused, match="SQLite supports one scheduler"):
            check_single_node(get_settings(), engine)
    finally:
        paused.kill()
        paused.wait()


def test_a_scheduler_whose_process_is_gone_does_not(engine: Engine) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    _scheduler_row(engine, gone.pid, "running")
    check_single_node(get_settings(), engine)
