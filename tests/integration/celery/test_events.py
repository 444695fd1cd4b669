"""Try notices from workers to schedulers, on Redis and on RabbitMQ."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tandem.config import get_settings
from tandem.executors.celery.app import close_app, create_app
from tandem.executors.celery.events import EventListener, publish_event
from tandem.executors.workload import Event, Workload
from tests.integration.celery.support import Broker, isolated_broker

__all__ = ["isolated_broker"]

WORKLOAD = Workload(dag_id="d", run_id="r", task_id="t", map_index=-1, try_number=1)


def listener_for(broker: Broker, name: str) -> EventListener:
    options = create_app(get_settings()).conf.broker_transport_options
    listener = EventListener(broker.url, name, options)
    listener.connect()
    return listener


@pytest.mark.parametrize("isolated_broker", ["redis", "rabbitmq"], indirect=True)
def test_every_listener_wakes_at_once_on_a_notice(isolated_broker: Broker, tandem_home: Path) -> None:
    # Given two schedulers listening, waiting up to 10 s each
    listeners = [listener_for(isolated_broker, "a"), listener_for(isolated_broker, "b")]
    app = create_app(get_settings())
    results: dict[int, tuple[float, list[Event]]] = {}

    def wait(i: int) -> None:
        started = time.monotonic()
        events = listeners[i].wait(10.0)
        results[i] = (time.monotonic() - started, events)

    threads = [threading.Thread(target=wait, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        # When a worker publishes that a try finished
        assert publish_event(app, Event(WORKLOAD, "finished", "success"))
        for thread in threads:
            thread.join(15)
    finally:
        for listener in listeners:
            listener.close()
        close_app(app)

    # Then both wake well before their timeout, with the event
    for waited, events in results.values():
        assert waited < 5
        assert events == [Event(WORKLOAD, "finished", "success")]


@pytest.mark.parametrize("isolated_broker", ["redis", "rabbitmq"], indirect=True)
def test_wait_blocks_for_its_timeout_when_nothing_happens(isolated_broker: Broker, tandem_home: Path) -> None:
    listener = listener_for(isolated_broker, "idle")
    try:
        started = time.monotonic()
        assert listener.wait(0.5) == []
        assert 0.4 <= time.monotonic() - started < 3
        started = time.monotonic()
        assert listener.wait(0.0) == []
        assert time.monotonic() - started < 0.5
    finally:
        listener.close()


@pytest.mark.parametrize("isolated_broker", ["redis", "rabbitmq"], indirect=True)
def test_many_notices_are_drained_in_one_wait(isolated_broker: Broker, tandem_home: Path) -> None:
    listener = listener_for(isolated_broker, "batch")
    app = create_app(get_settings())
    try:
        sent = [Event(Workload("d", "r", f"t{i}", -1, 1), "finished") for i in range(20)]
        for event in sent:
            publish_event(app, event)
        received: list[Event] = []
        deadline = time.monotonic() + 10
        while len(received) < len(sent) and time.monotonic() < deadline:
            received += listener.wait(1.0)
        assert received == sent
    finally:
        listener.close()
        close_app(app)


def test_unreachable_broker_neither_raises_nor_spins(tandem_home: Path) -> None:
    # A scheduler must keep scheduling (and pacing its loop) while the broker is away.
    listener = EventListener("redis://127.0.0.1:1/0", "nobody")
    started = time.monotonic()
    assert listener.wait(0.3) == []
    assert listener.wait(0.3) == []
    assert 0.5 <= time.monotonic() - started < 10
    listener.close()
