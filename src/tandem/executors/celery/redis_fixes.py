"""Guards around kombu Redis-transport failures that would stop a Celery worker.

When the broker connection is lost, Celery closes it and reconnects on a new channel. Two calls
can still reach the old, closed channel and make kombu raise ``AttributeError`` ('NoneType'
object has no attribute 'hostname' / 'client'), which Celery treats as unrecoverable, so the
worker exits where it should carry on:

- closing the channel restores the worker's unacknowledged messages over it;
- a try that ends during the outage acknowledges its message (``acks_late``) over it.

With no connection nothing can be restored or acknowledged anyway: the messages stay in
Redis's unacked set and the visibility timeout hands them out again, where the runner's claim
(a compare-and-set) makes a second delivery of a finished try run nothing. So skipping the call
is what kombu would do with a live connection that failed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def _closed(qos: Any) -> bool:
    return getattr(getattr(qos.channel, "connection", None), "client", None) is None


def _guard(method: Callable[..., Any], what: str, *, client_arg: bool = False) -> Callable[..., Any]:
    """``method`` skipped on a closed channel (unless, with ``client_arg``, a client is given)."""
    if getattr(method, "_tandem_guard", False):
        return method

    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        given = client_arg and (kwargs.get("client") is not None or (args and args[0] is not None))
        if not given and _closed(self):
            log.warning("broker connection already closed: %s left to the visibility timeout", what)
            return None
        return method(self, *args, **kwargs)

    guarded._tandem_guard = True  # type: ignore[attr-defined]
    return guarded


def install() -> None:
    from kombu.transport import redis

    redis.QoS.restore_unacked = _guard(redis.QoS.restore_unacked,  # type: ignore[method-assign]
                                       "unacknowledged messages are", client_arg=True)
    redis.QoS.ack = _guard(redis.QoS.ack, "the acknowledgement of a finished try is")  # type: ignore[method-assign]
