"""The dashboard's broker check against real Redis and RabbitMQ, and an unreachable broker."""

from __future__ import annotations

import time

import pytest

from tandem.config import Settings, get_settings
from tandem.observability import health
from tests.api.server import free_port
from tests.fixtures.services import RABBITMQ_URL, REDIS_URL, require_service


def celery_settings(url: str) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={
        "core": settings.core.model_copy(update={"executor": "celery"}),
        "celery": settings.celery.model_copy(update={"broker_url": url}),
    })


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    health._broker_cache.clear()


@pytest.mark.parametrize("kind, url", [pytest.param("redis", REDIS_URL, marks=pytest.mark.redis),
                                       pytest.param("rabbitmq", RABBITMQ_URL, marks=pytest.mark.rabbitmq)])
def test_a_reachable_broker_answers(tandem_home: object, kind: str, url: str) -> None:
    require_service(kind)
    answer = health.broker_health(celery_settings(url))
    assert answer is not None and answer["ok"], answer
    assert answer["kind"] == kind and "guest:guest" not in answer["url"]


def test_an_unreachable_broker_is_down_within_the_bound(tandem_home: object) -> None:
    started = time.monotonic()
    answer = health.broker_health(celery_settings(f"redis://127.0.0.1:{free_port()}/0"))
    assert answer is not None and not answer["ok"] and answer["error"]
    assert time.monotonic() - started < 3 * health.BROKER_TIMEOUT
    assert health.broker_health(get_settings()) is None  # the local executor has no broker
