"""Claims: idempotent for the runner that made them, refused to a late delivery."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.executors.stub import StubExecutor
from tandem.models import DagRun
from tandem.runner.claim import claim_try
from tests.fixtures.db import ALL_DATABASES
from tests.fixtures.scheduler import Harness

ONE = """
with DAG("one", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="t")
"""


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
def test_a_claim_whose_acknowledgement_was_lost_is_claimed_again_by_its_runner(harness: Harness) -> None:
    harness.add_dag("one", ONE)
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    harness.trigger("one", scheduler)
    scheduler.run_once()
    (workload,) = executor.take()
    with session_scope(harness.engine) as session:
        first = claim_try(session, workload, hostname="h", node_id="n", pid=42)
    # When the same runner retries (its commit landed, but the reply never came)
    with session_scope(harness.engine) as session:
        again = claim_try(session, workload, hostname="h", node_id="n", pid=42)
    # Then it gets the same claim, and any other runner gets nothing
    assert first is not None and again == first
    with session_scope(harness.engine) as session:
        assert claim_try(session, workload, hostname="h", node_id="other", pid=42) is None


def test_a_delivery_queued_by_a_fenced_scheduler_loses(harness: Harness) -> None:
    harness.add_dag("one", ONE)
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    harness.trigger("one", scheduler)
    scheduler.run_once()
    (workload,) = executor.take()
    assert workload.queued_by == scheduler.node_id
    # Given a peer re-queued the try (the queuing scheduler was declared dead) and queued it again
    from dataclasses import replace

    stale = replace(workload, queued_by="a-dead-scheduler")
    with session_scope(harness.engine) as session:
        assert claim_try(session, stale, hostname="h", node_id="n") is None
        assert claim_try(session, workload, hostname="h", node_id="n") is not None


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_a_claim_carries_the_dags_last_success_before_its_run(harness: Harness) -> None:
    from datetime import UTC, datetime

    from tandem.executors.sequential import SequentialExecutor

    harness.add_dag("one", ONE)
    # Given a first run that succeeded
    done = harness.scheduler(SequentialExecutor())
    first = harness.trigger("one", done, logical_date=datetime(2024, 1, 1, tzinfo=UTC))
    assert harness.drive(done, "one", first) == "success"
    # When tries of an earlier run and of a later one are claimed
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    harness.trigger("one", scheduler, logical_date=datetime(2023, 1, 1, tzinfo=UTC))
    harness.trigger("one", scheduler, logical_date=datetime(2025, 1, 1, tzinfo=UTC))
    scheduler.run_once()
    workloads = sorted(executor.take(), key=lambda w: w.run_id)
    with session_scope(harness.engine) as session:
        claims = {w.run_id: claim_try(session, w, hostname="h", node_id="n") for w in workloads}
        run = session.execute(sa.select(DagRun).where(DagRun.run_id == first)).scalar_one()
    # Then the later run's claim names the first run as its previous success, the earlier one none
    made = [c for c in claims.values() if c is not None]
    assert len(made) == 2
    earlier, later = sorted(made, key=lambda c: c.logical_date)
    assert earlier.previous_success is None
    assert later.previous_success is not None
    assert later.previous_success.start_date == run.start_date
    assert later.previous_success.end_date == run.end_date
    assert later.previous_success.data_interval_end == run.data_interval_end
