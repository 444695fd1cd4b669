"""Waits on the broker are bounded (ARCHITECTURE.md, invariant 11): a broker connection that
turns into a black hole (nothing answers, nothing is closed) errors within seconds."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tandem.config import Settings
from tandem.executors.celery.app import celery_config, create_app
from tests.fixtures.blackhole import BlackHoleProxy
from tests.fixtures.services import RABBITMQ_URL, REDIS_URL

#: Limits small enough to watch them act.
FAST = {"broker_socket_timeout": 2, "broker_connect_timeout": 2, "broker_heartbeat": 2,
        "broker_keepalive_idle": 1, "broker_keepalive_interval": 1, "broker_keepalive_count": 2}


def _through(proxy_factory: Callable[[tuple[str, int]], BlackHoleProxy], url: str) -> tuple[BlackHoleProxy, str]:
    parts = urlsplit(url)
    proxy = proxy_factory((parts.hostname or "127.0.0.1", parts.port or 0))
    netloc = f"{parts.username}:{parts.password}@" if parts.username else ""
    return proxy, parts._replace(netloc=f"{netloc}{proxy.host}:{proxy.port}").geturl()


def test_every_transport_gets_bounded_socket_options(tandem_home: Path) -> None:
    redis = celery_config(Settings(celery={"broker_url": "redis://h:6379/0"}))  # type: ignore[arg-type]
    amqp = celery_config(Settings(celery={"broker_url": "amqp://guest:guest@h//"}))  # type: ignore[arg-type]
    assert redis["broker_transport_options"]["socket_timeout"] == 30
    assert redis["broker_transport_options"]["socket_keepalive_options"][socket.TCP_USER_TIMEOUT] == 25000
    assert amqp["broker_heartbeat"] == 10 and amqp["broker_connection_timeout"] == 10
    assert amqp["broker_transport_options"]["socket_settings"][socket.TCP_KEEPIDLE] == 10


@pytest.mark.redis
def test_a_black_holed_redis_connection_errors_within_the_bound(
    tandem_home: Path, black_hole_proxy: Callable[[tuple[str, int]], BlackHoleProxy]
) -> None:
    import redis

    # Given a Celery app whose broker connection goes through a proxy, and works
    proxy, url = _through(black_hole_proxy, f"{REDIS_URL.rstrip('/')}/0")
    app = create_app(Settings(celery={"broker_url": url, **FAST}))  # type: ignore[arg-type]
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        client = conn.default_channel.client
        assert client.ping()

        # When the path to the broker turns into a black hole
        proxy.black_hole()
        started = time.monotonic()
        with pytest.raises((redis.exceptions.TimeoutError, redis.exceptions.ConnectionError)):
            client.ping()
        took = time.monotonic() - started

    # Then the client errors within socket_timeout plus one reconnect attempt (2 + 2 s here)
    assert took < 10, f"a black-holed Redis connection took {took:.1f} s to error"


@pytest.mark.rabbitmq
def test_a_black_holed_rabbitmq_connection_is_detected_by_heartbeats(
    tandem_home: Path, black_hole_proxy: Callable[[tuple[str, int]], BlackHoleProxy]
) -> None:
    # Given a consumer's connection to RabbitMQ through a proxy, heartbeating every 2 s
    proxy, url = _through(black_hole_proxy, RABBITMQ_URL)
    app = create_app(Settings(celery={"broker_url": url, **FAST}))  # type: ignore[arg-type]
    with app.connection_for_read(heartbeat=app.conf.broker_heartbeat) as conn:
        conn.ensure_connection(max_retries=1)
        conn.default_channel  # noqa: B018 - opens the channel

        # When the path turns into a black hole, while the consumer waits for messages
        proxy.black_hole()
        started = time.monotonic()
        with pytest.raises(Exception) as err:  # noqa: B017 - amqp raises ConnectionForced or an OSError
            while time.monotonic() - started < 30:
                try:
                    conn.drain_events(timeout=0.5)
                except TimeoutError:
                    pass
                conn.heartbeat_check()
        took = time.monotonic() - started

    # Then the missed heartbeats end the connection within a few heartbeat intervals
    assert took < 10, f"a black-holed RabbitMQ connection took {took:.1f} s to be detected ({err.value!r})"
