"""CeleryExecutor on a real broker: routing by queue, sending failures, open slots from the DB."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kombu import Connection, Queue
from sqlalchemy.engine import Engine

from tandem.config import get_settings
from tandem.db.session import session_scope
from tandem.executors.base import ExecutorStart
from tandem.executors.celery.app import TASK_NAME, celery_config
from tandem.executors.celery.executor import CeleryExecutor
from tandem.executors.workload import Workload
from tandem.models import DagRun, TaskInstance
from tests.integration.celery.support import Broker, isolated_broker

__all__ = ["isolated_broker"]


@pytest.fixture
def executor(isolated_broker: Broker, engine: Engine) -> Iterator[CeleryExecutor]:
    executor = CeleryExecutor()
    executor.start(ExecutorStart(settings=get_settings(), node_id="scheduler-1", parallelism=10))
    try:
        yield executor
    finally:
        executor.shutdown()


def receive(broker: Broker, queue: str) -> tuple[dict[str, Any], list[Any]]:
    """Take one Celery message off ``queue``: its headers and its body ``[args, kwargs, embed]``."""
    conf = celery_config(get_settings())
    # Declared as the app declares it (a RabbitMQ priority queue; Redis's per-priority lists).
    declared = Queue(queue, queue_arguments={"x-max-priority": conf["task_queue_max_priority"]})
    with Connection(broker.url, transport_options=conf["broker_transport_options"]) as conn:
        simple = conn.SimpleQueue(declared)
        try:
            message = simple.get(timeout=10)
            message.ack()
            return dict(message.headers), message.decode()
        finally:
            simple.close()


@pytest.mark.parametrize("isolated_broker", ["redis", "rabbitmq"], indirect=True)
def test_each_workload_goes_to_its_queue_as_data(executor: CeleryExecutor, isolated_broker: Broker) -> None:
    # Given a workload for each queue
    light = Workload("d", "r", "light", -1, 1, queue="default")
    heavy = Workload("d", "r", "heavy", 2, 3, queue="heavy", execution_timeout=30.0)

    # When they are submitted
    executor.submit([light, heavy])

    # Then each is a message on its own queue, carrying the workload and nothing else
    for workload in (heavy, light):
        headers, (args, kwargs, _) = receive(isolated_broker, workload.queue)
        assert headers["task"] == TASK_NAME and headers["shadow"] == f"d.{workload.task_id}"
        assert args == [workload.to_dict()] and kwargs == {}
    assert executor.poll(0.0) == []


@pytest.mark.parametrize("isolated_broker", ["redis", "rabbitmq"], indirect=True)
def test_a_waiting_try_of_higher_priority_weight_is_delivered_first(
    executor: CeleryExecutor, isolated_broker: Broker
) -> None:
    # Given tries of low, middle and high priority weight sent in that order
    weights = {"low": 1, "middle": 20, "high": 600}
    executor.submit([Workload("d", "r", name, -1, 1, priority_weight=w) for name, w in weights.items()])

    # When a worker takes them one by one
    taken = [receive(isolated_broker, "default")[1][0][0]["task_id"] for _ in weights]

    # Then the broker hands out the most important first
    assert taken == ["high", "middle", "low"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unreachable_broker_reports_workloads_lost_without_raising(
    tandem_home: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANDEM__CELERY__BROKER_URL", "redis://127.0.0.1:1/0")
    from tandem.config import reset_settings

    reset_settings()
    executor = CeleryExecutor()
    executor.start(ExecutorStart(settings=get_settings(), node_id="scheduler-1", parallelism=10))
    try:
        workloads = [Workload("d", "r", f"t{i}", -1, 1) for i in range(3)]
        started = time.monotonic()
        executor.submit(workloads)
        events = executor.poll(5.0)
        assert time.monotonic() - started < 15
        assert [(e.workload, e.kind) for e in events] == [(w, "lost") for w in workloads]
        assert all("broker" in e.detail for e in events)
    finally:
        executor.shutdown()


@pytest.mark.parametrize("isolated_broker", ["redis"], indirect=True)
def test_open_slots_count_this_schedulers_unfinished_tries(executor: CeleryExecutor, engine: Engine) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(
            DagRun(
                dag_id="d", run_id="r", logical_date=now, run_after=now, run_type="manual", state="running"
            )
        )
        session.flush()
        for i, (state, queued_by) in enumerate(
            [
                ("queued", "scheduler-1"),
                ("running", "scheduler-1"),
                ("success", "scheduler-1"),
                ("running", "scheduler-2"),
            ]
        ):
            session.add(
                TaskInstance(
                    dag_id="d", run_id="r", task_id=f"t{i}", map_index=-1, state=state, queued_by=queued_by
                )
            )
    assert executor.open_slots() == 10 - 2


@pytest.mark.parametrize("isolated_broker", ["redis"], indirect=True)
def test_open_slots_follow_sends_and_notices_between_counts(
    executor: CeleryExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tandem.executors.celery import executor as module
    from tandem.executors.celery.events import publish_event
    from tandem.executors.workload import Event

    monkeypatch.setattr(module, "SLOTS_RECOUNT", 3600.0)  # no recount from the DB during the test

    # Given a scheduler with nothing in flight (counted in the DB)
    assert executor.open_slots() == 10

    # When it sends three tries, and hears that one of them and a peer's try finished
    mine = [Workload("d", "r", f"t{i}", -1, 1, queued_by="scheduler-1") for i in range(3)]
    executor.submit(mine)
    assert executor.open_slots() == 7
    assert executor._app is not None
    publish_event(executor._app, Event(mine[0], "finished", "success"))
    publish_event(executor._app, Event(mine[1], "finished", "not claimed"))  # a duplicate delivery
    publish_event(executor._app, Event(Workload("d", "r", "x", -1, 1, queued_by="scheduler-2"), "finished"))
    deadline = time.monotonic() + 10
    heard = 0
    while heard < 3 and time.monotonic() < deadline:
        heard += len(executor.poll(1.0))

    # Then only its own finished try gives a slot back
    assert heard == 3 and executor.open_slots() == 8


@pytest.mark.parametrize("isolated_broker", ["redis"], indirect=True)
def test_tries_ending_close_together_come_in_one_poll(
    executor: CeleryExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from tandem.executors.celery import executor as module
    from tandem.executors.celery.events import publish_event
    from tandem.executors.workload import Event

    monkeypatch.setattr(module, "SLOTS_RECOUNT", 3600.0)  # no recount from the DB during the test
    monkeypatch.setattr(module, "COALESCE_WINDOW", 2.0)  # wide, so the test does not race the clock
    assert executor.open_slots() == 10
    assert executor._app is not None
    app = executor._app
    mine = [Workload("d", "r", f"t{i}", -1, 1, queued_by="scheduler-1") for i in range(3)]
    executor.submit(mine)

    # Given two of this scheduler's tries ending 0.3 s apart, a third still out
    publish_event(app, Event(mine[0], "finished", "success"))
    later = threading.Timer(0.3, lambda: publish_event(app, Event(mine[1], "finished", "success")))
    later.start()
    try:
        # When the scheduler polls
        events = executor.poll(5.0)
    finally:
        later.join()

    # Then both ends come in one poll (one pass), and both slots are given back
    assert [e.workload for e in events] == mine[:2]
    assert executor.open_slots() == 9

    # Given the last try ending, with nothing else of this scheduler's out
    publish_event(app, Event(mine[2], "finished", "success"))
    started = time.monotonic()
    events = []
    while not events and time.monotonic() - started < 5:
        events = executor.poll(5.0)

    # Then the poll returns at once: nothing could come to join it
    assert [e.workload for e in events] == [mine[2]]
    assert time.monotonic() - started < 1.5
    assert executor.open_slots() == 10
