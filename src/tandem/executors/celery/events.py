""" "A try finished" notices, from workers to every scheduler, over the Celery broker.

A worker publishes a small message on a fanout exchange when a try's process has exited (its
outcome is already in the DB); every scheduler listens on its own transient queue bound to
that exchange and wakes at once, instead of at its next poll interval. On Redis, kombu maps a
fanout exchange onto pub/sub; on RabbitMQ it is a real fanout exchange.

Notices are hints, never state: one that is lost (a scheduler reconnecting, the broker
restarting) only delays scheduling to the next poll interval.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from tandem.executors.workload import Event, Workload

if TYPE_CHECKING:
    from celery import Celery
    from kombu import Connection, Consumer, Exchange, Message

log = logging.getLogger(__name__)

EXCHANGE_NAME = "tandem.events"
#: Notices drained in one poll at most, so a flood cannot starve the scheduler loop.
MAX_BATCH = 1000
#: Publishing gives up after about this many seconds of broker trouble.
PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0.0, "interval_step": 0.5, "interval_max": 1.0}


def events_exchange() -> Exchange:
    from kombu import Exchange

    # Transient: a notice is worth nothing once the moment has passed.
    return Exchange(EXCHANGE_NAME, type="fanout", durable=False, delivery_mode="transient")


def encode(event: Event) -> dict[str, Any]:
    return {"kind": event.kind, "detail": event.detail, "workload": event.workload.to_dict()}


def decode(body: dict[str, Any]) -> Event:
    return Event(Workload.from_dict(body["workload"]), body["kind"], body.get("detail", ""))


def publish_event(app: Celery, event: Event) -> bool:
    """Tell every scheduler about ``event``; False (and a warning) when the broker is away."""
    exchange = events_exchange()
    try:
        with app.producer_or_acquire() as producer:
            producer.publish(
                encode(event),
                exchange=exchange,
                routing_key="",
                declare=[exchange],
                serializer="json",
                retry=True,
                retry_policy=PUBLISH_RETRY,
            )
        return True
    except Exception as e:  # noqa: BLE001 - any transport error; the scheduler still sees the outcome at its next poll
        log.warning("could not publish %s of %s: %s", event.kind, event.workload, e)
        return False


class EventListener:
    """A scheduler's subscription to the notices; reconnects by itself after broker trouble.

    Parameters: ``broker_url`` of the Celery broker, ``name`` distinguishing this listener's
    queue from its peers' (the scheduler's node id), ``transport_options`` as for Celery.
    """

    def __init__(self, broker_url: str, name: str, transport_options: dict[str, Any] | None = None) -> None:
        self.broker_url = broker_url
        self.name = name
        self.transport_options = transport_options or {}
        self._connection: Connection | None = None
        self._consumer: Consumer | None = None
        self._pending: list[Event] = []
        self._retry_at = 0.0

    def connect(self) -> None:
        from kombu import Connection, Consumer, Queue

        connection = Connection(self.broker_url, transport_options=self.transport_options, connect_timeout=5)
        try:
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            queue = Queue(
                f"{EXCHANGE_NAME}.{self.name}",
                events_exchange(),
                routing_key="",
                durable=False,
                auto_delete=True,
                exclusive=connection.transport.driver_type == "amqp",
                channel=channel,
            )
            consumer = Consumer(
                channel, queues=[queue], callbacks=[self._on_message], accept=["json"], no_ack=True
            )
            consumer.consume()
            # Redis subscribes on the first drain: do it now, so no notice published from here on is missed.
            try:
                connection.drain_events(timeout=0.001)
            except TimeoutError:
                pass
        except BaseException:
            connection.release()
            raise
        self._connection, self._consumer = connection, consumer

    def _on_message(self, body: Any, message: Message) -> None:
        try:
            self._pending.append(decode(body))
        except (KeyError, TypeError) as e:
            log.warning("ignored a malformed notice: %s", e)

    def wait(self, timeout: float) -> list[Event]:
        """Notices received within ``timeout`` seconds; returns as soon as one arrives."""
        if self._connection is None and not self._reconnect():
            time.sleep(timeout)  # the caller relies on poll() to pace its loop
            return []
        assert self._connection is not None
        deadline = time.monotonic() + timeout
        try:
            # Until the first notice or the deadline: a drain may return having handled only
            # transport chatter (Redis answers a SUBSCRIBE with a message of its own).
            while not self._pending:
                # A zero timeout makes some transports block; a millisecond is as good as non-blocking.
                self._connection.drain_events(timeout=max(deadline - time.monotonic(), 0.001))
                if time.monotonic() >= deadline:
                    break
            while self._pending and len(self._pending) < MAX_BATCH:
                self._connection.drain_events(timeout=0.001)
        except TimeoutError:
            pass
        except Exception as e:  # noqa: BLE001 - transports raise their own connection errors
            log.warning("lost the broker connection for try notices (%s); reconnecting", e)
            self.close()
            self._retry_at = time.monotonic() + 1.0
        events, self._pending = self._pending, []
        return events

    def _reconnect(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        try:
            self.connect()
            log.info("listening for try notices on %s", self._safe_url())
            return True
        except Exception as e:  # noqa: BLE001 - transports raise their own connection errors
            log.warning("cannot listen for try notices on %s: %s", self._safe_url(), e)
            self._retry_at = time.monotonic() + 2.0
            return False

    def _safe_url(self) -> str:
        from kombu.utils.url import maybe_sanitize_url

        return str(maybe_sanitize_url(self.broker_url))

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception as e:  # noqa: BLE001 - closing a broken connection may fail any way
                log.debug("closing the notice connection: %s", e)
        self._connection = self._consumer = None
