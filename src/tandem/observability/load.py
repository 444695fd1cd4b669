"""A node's current load, written into its heartbeat (``node.details["load"]``).

Any api-server shows it from the DB without scraping the node. The figures are the node's own:
tries it queued that are queued or running, its executor's open slots, and its scheduler
passes per second over the last minute.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.observability import instruments

if TYPE_CHECKING:
    from tandem.executors.base import BaseExecutor

log = logging.getLogger(__name__)
WINDOW = 60.0

#: The last load this process wrote (its metrics endpoint exports it as gauges).
latest: dict[str, Any] = {}
#: Where a process can tell its load without the DB (a Celery worker), the metrics endpoint asks
#: it at scrape time instead of showing the last heartbeat's figures, which lag by up to a beat.
_live: Callable[[], dict[str, Any]] | None = None


def measure_live(source: Callable[[], dict[str, Any]]) -> None:
    global _live
    _live = source


def current() -> dict[str, Any]:
    """The figures a scrape exports: measured now where the process can, else the last beat's."""
    return _live() if _live is not None else dict(latest)


class PassRate:
    """Passes per second over the last ``WINDOW`` seconds, from samples taken at heartbeats."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, now: float | None = None, passes: int | None = None) -> float:
        now = time.monotonic() if now is None else now
        passes = instruments.passes if passes is None else passes
        self._samples.append((now, passes))
        # Keep the newest sample at least WINDOW old as the baseline.
        while len(self._samples) > 2 and self._samples[1][0] <= now - WINDOW:
            self._samples.popleft()
        then, before = self._samples[0]
        return (passes - before) / (now - then) if now > then else 0.0


_rate = PassRate()
_failing: list[Exception] = []


def scheduler_load(engine: Engine, node_id: str, executor: BaseExecutor) -> dict[str, Any] | None:
    """The load of a scheduler: one aggregate query on an indexed column, then the executor's slots.

    In a transaction of its own, and None when it fails (logged): the heartbeat it rides on
    must go out whatever happens here, or the node would be declared dead for want of a figure.
    """
    from tandem.db.session import session_scope
    from tandem.models import TaskInstance

    try:
        with session_scope(engine) as session:
            counts = dict(session.execute(
                sa.select(TaskInstance.state, sa.func.count())
                .where(TaskInstance.queued_by == node_id, TaskInstance.state.in_(("queued", "running")))
                .group_by(TaskInstance.state)
            ).all())
        open_slots = int(executor.open_slots())
    except Exception as e:  # noqa: BLE001 - see above
        # Once per streak: while the DB is away, every beat would say so again.
        log.log(logging.DEBUG if _failing else logging.WARNING, "could not measure this scheduler's load: %s", e)
        _failing.append(e)
        return None
    _failing.clear()
    load = {"running": int(counts.get("running", 0)), "queued": int(counts.get("queued", 0)),
            "open_slots": open_slots, "passes_per_s": round(_rate.sample(), 2)}
    latest.update(load)
    return load


def worker_load(running: int, concurrency: int) -> dict[str, Any]:
    load = {"running": running, "queued": 0, "open_slots": max(concurrency - running, 0), "passes_per_s": None}
    latest.update(load)
    return load
