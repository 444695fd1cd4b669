"""A guard around one kombu Redis-transport failure that would stop a Celery worker.

When the broker connection is lost, Celery closes it; closing the channel restores the
worker's unacknowledged messages over a connection that is already gone, and kombu raises
``AttributeError: 'NoneType' object has no attribute 'hostname'``. Celery treats that as an
unrecoverable error and the worker exits, where it should reconnect. With no connection
nothing can be restored anyway: the messages stay in Redis's unacked set and the visibility
timeout hands them out again, so skipping the restore is what kombu would do with a live one
that failed.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def install() -> None:
    from kombu.transport import redis

    original = redis.QoS.restore_unacked
    if getattr(original, "_tandem_guard", False):
        return

    def restore_unacked(self: Any, client: Any = None) -> Any:
        if client is None and getattr(getattr(self.channel, "connection", None), "client", None) is None:
            log.warning("broker connection already closed: unacknowledged messages are left to the "
                        "visibility timeout")
            return None
        return original(self, client)

    restore_unacked._tandem_guard = True  # type: ignore[attr-defined]
    redis.QoS.restore_unacked = restore_unacked  # type: ignore[method-assign]
