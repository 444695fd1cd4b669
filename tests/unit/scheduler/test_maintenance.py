"""Repairs: zombies, tries stuck in queued, and the queued work of dead schedulers."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tandem.cluster.nodes import register_node
from tandem.db.session import session_scope
from tandem.executors.stub import StubExecutor
from tandem.models import Node, TaskInstance, utcnow
from tandem.orchestration import TiKey, transition_ti
from tandem.runner.logs import try_log_path
from tandem.scheduler.maintenance import repair
from tandem.state import TaskInstanceState as S
from tests.fixtures.scheduler import Harness

ONE_TASK = """
with DAG("one", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="t", retries=1, retry_delay=timedelta(seconds=1))
"""


def _queue_one(harness: Harness) -> tuple[TiKey, object]:
    harness.add_dag("one", ONE_TASK)
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    run_id = harness.trigger("one", scheduler)
    scheduler.run_once()
    assert len(executor.take()) == 1
    return TiKey("one", run_id, "t", -1), scheduler


def test_a_silent_running_try_is_a_zombie_and_retried(harness: Harness) -> None:
    key, scheduler = _queue_one(harness)
    old = utcnow() - timedelta(minutes=10)
    # Given a try whose runner claimed it and then died (no heartbeat for 10 minutes)
    with session_scope(harness.engine) as session:
        transition_ti(session, key, S.QUEUED, S.RUNNING, try_number=0,
                      values={"try_number": 1, "last_heartbeat": old, "hostname": "gone", "pid": 1})
        session.execute(sa.update(TaskInstance).where(TaskInstance.task_id == "t")
                        .values(last_heartbeat=old))
    # When a scheduler repairs
    with session_scope(harness.engine) as session:
        stats = repair(session, scheduler.dialect, scheduler.cache, harness.settings, utcnow())
    # Then the try failed, a retry is due, and the log says why
    assert stats.zombies == 1
    ti = harness.tis("one", key.run_id)[("t", -1)]
    assert (ti.state, ti.try_number) == ("up_for_retry", 1)
    assert "zombie" in (ti.failure_reason or "")
    assert "zombie" in try_log_path(harness.settings.log_folder, key, 1).read_text()


def test_queued_work_of_a_dead_scheduler_is_requeued(harness: Harness) -> None:
    key, scheduler = _queue_one(harness)
    with session_scope(harness.engine) as session:
        dead = register_node(session, "scheduler")
        session.flush()
        session.execute(sa.update(TaskInstance).where(TaskInstance.task_id == "t").values(queued_by=dead))
        session.execute(sa.update(Node).where(Node.id == dead).values(last_heartbeat=utcnow() - timedelta(hours=1)))
    with session_scope(harness.engine) as session:
        stats = repair(session, scheduler.dialect, scheduler.cache, harness.settings, utcnow())
    assert (stats.dead_nodes, stats.requeued) == (1, 1)
    ti = harness.tis("one", key.run_id)[("t", -1)]
    assert (ti.state, ti.try_number) == ("scheduled", 0)
    with session_scope(harness.engine) as session:
        assert session.get(Node, dead).state == "dead"


def test_a_try_stuck_in_queued_is_requeued(harness: Harness) -> None:
    key, scheduler = _queue_one(harness)
    later = utcnow() + timedelta(seconds=harness.settings.scheduler.queued_timeout + 1)
    with session_scope(harness.engine) as session:
        stats = repair(session, scheduler.dialect, scheduler.cache, harness.settings, later)
    assert stats.requeued == 1
    assert harness.tis("one", key.run_id)[("t", -1)].state == "scheduled"
