from __future__ import annotations

import pytest

from tandem.db.session import session_scope
from tandem.executors.stub import StubExecutor
from tandem.orchestration import InvalidTransition, RetryParams, TiKey, transition_ti
from tandem.state import TaskInstanceState as S
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
