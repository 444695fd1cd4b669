"""kombu's Redis QoS on a channel whose connection is gone: the guards skip, the originals raise."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

kombu_redis = pytest.importorskip("kombu.transport.redis")


def closed_qos() -> object:
    qos = kombu_redis.QoS.__new__(kombu_redis.QoS)
    qos.channel = SimpleNamespace(connection=None)  # type: ignore[attr-defined]
    return qos


def test_ack_and_restore_over_a_closed_channel_are_skipped() -> None:
    from tandem.executors.celery import redis_fixes

    redis_fixes.install()
    assert kombu_redis.QoS.ack(closed_qos(), "tag-1") is None
    assert kombu_redis.QoS.restore_unacked(closed_qos()) is None
    redis_fixes.install()  # twice is harmless: no guard around a guard
    assert kombu_redis.QoS.ack.__wrapped__.__name__ == "ack"
    with pytest.raises(AttributeError):
        kombu_redis.QoS.ack.__wrapped__(closed_qos(), "tag-1")
