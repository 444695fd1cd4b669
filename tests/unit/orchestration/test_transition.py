from __future__ import annotations

import pytest
import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.executors.stub import StubExecutor
from tandem.models import DagRun
from tandem.orchestration import InvalidTransition, RetryParams, TiKey, transition, transition_ti
from tandem.state import TaskInstanceState as S
from tests.fixtures.db import ALL_DATABASES
from tests.fixtures.scheduler import Harness


def _queued(harness: Harness) -> TiKey:
    harness.add_dag("one", """
with DAG("one", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="t", retries=2)
""")
    scheduler = harness.scheduler(StubExecutor())
    run_id = harness.trigger("one", scheduler)
    scheduler.run_once()
    return TiKey("one", run_id, "t", -1)


def test_cas_acts_only_on_the_expected_state_and_try(harness: Harness) -> None:
    key = _queued(harness)
    with session_scope(harness.engine) as session:
        assert transition_ti(session, key, S.SCHEDULED, S.QUEUED) is None  # it is already queued
        assert transition_ti(session, key, S.QUEUED, S.RUNNING, try_number=5) is None  # wrong try
        assert transition_ti(session, key, S.QUEUED, S.RUNNING, try_number=0, values={"try_number": 1}) == S.RUNNING


def test_failure_with_tries_left_becomes_up_for_retry(harness: Harness) -> None:
    key = _queued(harness)
    with session_scope(harness.engine) as session:
        transition_ti(session, key, S.QUEUED, S.RUNNING, try_number=0, values={"try_number": 1})
        final = transition_ti(session, key, S.RUNNING, S.FAILED, try_number=1, retry=RetryParams())
    assert final == S.UP_FOR_RETRY


def test_an_edge_not_in_the_table_is_refused(harness: Harness) -> None:
    key = _queued(harness)
    with session_scope(harness.engine) as session, pytest.raises(InvalidTransition, match="scheduled to running"):
        transition_ti(session, key, S.SCHEDULED, S.RUNNING)


WIDE = """
with DAG("wide", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task
    def noop(x):
        return None
    noop.expand(x=list(range(10_000)))
"""


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
def test_a_task_mapped_over_ten_thousand_items_is_expanded_and_scheduled(harness: Harness) -> None:
    # Given a task mapped over 10,000 literal items (one statement over all their keys was too
    # deep an expression for PostgreSQL, and failed every pass of every scheduler)
    harness.add_dag("wide", WIDE)
    scheduler = harness.scheduler(StubExecutor(slots=0))
    run_id = harness.trigger("wide", scheduler)
    # When the scheduler passes
    scheduler.run_once()
    # Then every instance exists and is scheduled
    states = harness.states("wide", run_id)
    assert len(states) == 10_000 and set(states.values()) == {"scheduled"}


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_statement_too_big_for_the_server_fails_its_run_not_the_scheduler(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a run whose scheduling sends PostgreSQL a statement too deep for it (as one over
    # 10,000 keys did), beside a healthy DAG
    monkeypatch.setattr(transition, "KEYS_PER_STATEMENT", 1_000_000)
    harness.add_dag("wide", WIDE)
    harness.add_dag("good", """
with DAG("good", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
""")
    scheduler = harness.scheduler()
    wide = harness.trigger("wide", scheduler)
    good = harness.trigger("good", scheduler)
    # Then the error is that run's (marked and put off), and the other DAG runs to the end
    assert harness.drive(scheduler, "good", good) == "success"
    with session_scope(harness.engine) as session:
        run = session.execute(sa.select(DagRun).where(DagRun.run_id == wide)).scalar_one()
    assert run.state == "running" and run.scheduling_failures >= 1
    assert "stack depth" in (run.scheduling_error or "")
