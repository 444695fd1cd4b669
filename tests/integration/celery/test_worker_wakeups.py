"""A Celery worker wakes the schedulers once per finished try: through the broker, not the DB too."""

from __future__ import annotations

import pytest

from tandem.db.wakeup import Listener
from tandem.executors.stub import StubExecutor
from tandem.executors.workload import Workload
from tandem.runner.supervisor import run_supervised
from tests.fixtures.scheduler import Harness

DAG_SOURCE = """
with DAG("pair", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
"""


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_runner_that_reports_itself_sends_no_database_wakeup(harness: Harness) -> None:
    # Given a run whose first try is queued, and a scheduler listening for database wake-ups
    harness.add_dag("pair", DAG_SOURCE)
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    run_id = harness.trigger("pair", scheduler)
    scheduler.run_once()
    (first,) = executor.take()
    listener = Listener.open(harness.engine, ignore=scheduler.node_id)
    assert listener is not None
    reported: list[tuple[Workload, str, str]] = []
    try:
        # When a Celery worker's pool process runs it, telling the schedulers itself
        detail = run_supervised(first, settings=harness.settings, node_id="worker-1",
                                on_report=lambda w, k, d: reported.append((w, k, d)))

        # Then the outcome is recorded and reported once, and the commit woke nobody
        assert detail == "success"
        assert reported == [(first, "finished", "success")]
        assert harness.tis("pair", run_id)[("a", -1)].state == "success"
        assert not listener.ready(0.3)

        # While a runner that reports through a pipe alone (the local executor's) still wakes peers
        scheduler.run_once()
        (second,) = executor.take()
        assert run_supervised(second, settings=harness.settings, node_id="worker-1") == "success"
        assert listener.ready(5.0)
    finally:
        listener.close()
