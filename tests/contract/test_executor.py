"""The executor contract, run against every implementation that can run here.

submit() hands workloads over without blocking on them; poll() reports each one once it has
finished; the runner, not the executor, records the outcome in the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tandem.executors.base import BaseExecutor, ExecutorStart
from tandem.executors.loader import ExecutorNotFound, load_executor_class
from tandem.executors.stub import StubExecutor
from tandem.executors.workload import Event
from tests.fixtures.scheduler import Harness

DAG = """
with DAG("contract", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    for i in range(3):
        BashOperator(task_id=f"t{i}", bash_command=f"echo {i}")
"""


@pytest.fixture(params=["sequential", "local"])
def executor(request: pytest.FixtureRequest, harness: Harness) -> Iterator[BaseExecutor]:
    instance = load_executor_class(request.param)()
    instance.start(ExecutorStart(settings=harness.settings, node_id="contract", parallelism=4))
    try:
        yield instance
    finally:
        instance.shutdown(wait=True)


def _queued_workloads(harness: Harness) -> list:
    harness.add_dag("contract", DAG)
    stub = StubExecutor()
    scheduler = harness.scheduler(stub)
    run_id = harness.trigger("contract", scheduler)
    scheduler.run_once()
    return run_id, stub.take()


def _poll_until(executor: BaseExecutor, count: int, timeout: float = 30) -> list[Event]:
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        events += executor.poll(0.5)
    return events


def test_each_workload_runs_and_is_reported_once(harness: Harness, executor: BaseExecutor) -> None:
    run_id, workloads = _queued_workloads(harness)
    assert len(workloads) == 3

    executor.submit(workloads)
    events = _poll_until(executor, 3)

    assert sorted(e.workload.task_id for e in events) == ["t0", "t1", "t2"]
    assert {e.kind for e in events} == {"finished"}
    assert set(harness.states("contract", run_id).values()) == {"success"}


def test_a_duplicate_submission_runs_nothing_twice(harness: Harness, executor: BaseExecutor) -> None:
    run_id, workloads = _queued_workloads(harness)

    executor.submit(workloads[:1] * 2)
    events = _poll_until(executor, 2)

    assert sorted(e.detail for e in events) == ["not claimed", "success"]
    assert harness.tis("contract", run_id)[(workloads[0].task_id, -1)].try_number == 1


def test_open_slots_shrink_while_work_is_in_flight(harness: Harness) -> None:
    local = load_executor_class("local")()
    local.start(ExecutorStart(settings=harness.settings, node_id="contract", parallelism=4))
    try:
        _, workloads = _queued_workloads(harness)
        local.submit(workloads)
        assert local.open_slots() == 1
        _poll_until(local, 3)
        assert local.open_slots() == 4
    finally:
        local.shutdown(wait=True)


def test_unknown_executor_names_the_choices() -> None:
    with pytest.raises(ExecutorNotFound, match="use one of .*local"):
        load_executor_class("nope")
