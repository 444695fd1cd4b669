"""CeleryExecutor: each workload becomes a Celery message on the queue its task names.

The scheduler side of the Celery executor. It sends, and it listens for "finished" notices
so that the scheduler wakes as soon as a worker ends a try; it keeps no record of what it
sent, because the metadata DB already has it:

- a try whose message is lost (broker restarted without persistence) stays queued and a
  scheduler re-queues it after ``scheduler.queued_timeout``;
- a message that cannot be sent at all is reported as ``lost`` at once, and the scheduler
  puts the try back to scheduled;
- a message delivered twice, or to a worker that dies, is harmless: the runner's claim lets
  one delivery run the try, and a dead worker's try becomes a zombie that is retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tandem.executors.base import BaseExecutor, ExecutorStart
from tandem.executors.workload import Event, Workload
from tandem.runner.remote_log import NOT_CLAIMED

if TYPE_CHECKING:
    from celery import Celery

    from tandem.config import Settings
    from tandem.executors.celery.events import EventListener

log = logging.getLogger(__name__)

#: Publishing one message gives up after about this long when the broker is away.
SEND_RETRY = {"max_retries": 2, "interval_start": 0.0, "interval_step": 0.5, "interval_max": 1.0}
#: After a failed send, later workloads are reported lost without trying for this many seconds.
BROKER_DOWN_PAUSE = 2.0
#: The DB count behind ``open_slots`` is taken again after this many seconds; in between it is
#: kept up to date from what was sent and what finished.
SLOTS_RECOUNT = 1.0
#: Once a notice of ours came, further notices are gathered for up to this many seconds while
#: other tries of this scheduler are still out, so that tries ending together cost one pass.
COALESCE_WINDOW = 0.005


class CeleryExecutor(BaseExecutor):
    """Sends workloads to ``tandem worker`` processes through the Celery broker."""

    name = "celery"
    is_local = False

    def __init__(self) -> None:
        self._app: Celery | None = None
        self._listener: EventListener | None = None
        self._settings: Settings | None = None
        self._node_id = ""
        self._parallelism = 0
        self._lost: list[Event] = []
        self._broker_down_until = 0.0
        self._busy = 0
        self._counted_at: float | None = None

    def start(self, start: ExecutorStart) -> None:
        from tandem.executors.celery.app import create_app
        from tandem.executors.celery.events import EventListener

        self._settings = start.settings
        self._node_id = start.node_id
        self._parallelism = start.parallelism
        self._app = create_app(start.settings)
        cfg = start.settings.celery
        self._listener = EventListener(
            cfg.broker_url, start.node_id, self._app.conf.broker_transport_options or {}
        )
        # Listen before the first submit, so no notice of our own tries is missed.
        self._listener.wait(0.0)

    def open_slots(self) -> int:
        """``parallelism`` minus this scheduler's tries still queued or running.

        Counted in the DB at most every SLOTS_RECOUNT seconds, and in between from what this
        scheduler sent and what it heard finish: a count per pass was one more transaction (and
        connection checkout) on every pass. The estimate only paces sending; a wrong one is
        corrected by the next count.
        """
        now = time.monotonic()
        if self._counted_at is None or now - self._counted_at >= SLOTS_RECOUNT:
            self._busy, self._counted_at = self._count_busy(), now
        return self._parallelism - self._busy

    def _count_busy(self) -> int:
        from tandem.executors.capacity import busy_tries

        return busy_tries(self._node_id)

    def submit(self, workloads: Sequence[Workload]) -> None:
        from tandem.executors.celery.app import TASK_NAME, message_priority

        assert self._app is not None and self._settings is not None, "CeleryExecutor.start() first"
        default_queue = self._settings.celery.default_queue
        broker_url = self._settings.celery.broker_url
        self._busy += len(workloads)  # a workload reported lost is given back by poll()
        for workload in workloads:
            if time.monotonic() < self._broker_down_until:
                self._lost.append(Event(workload, "lost", "the Celery broker is unreachable"))
                continue
            try:
                self._app.send_task(
                    TASK_NAME,
                    args=[workload.to_dict()],
                    queue=workload.queue or default_queue,
                    # A worker's free slot takes the most important try waiting, not the oldest.
                    priority=message_priority(workload.priority_weight, broker_url),
                    retry=True,
                    retry_policy=SEND_RETRY,
                    # Shown by Flower and `celery inspect` instead of the generic task name.
                    shadow=f"{workload.dag_id}.{workload.task_id}",
                )
            except Exception as e:  # noqa: BLE001 - kombu raises transport-specific errors
                log.error("could not send %s to the Celery broker: %s", workload, e)
                self._lost.append(Event(workload, "lost", f"could not send to the broker: {e}"))
                self._broker_down_until = time.monotonic() + BROKER_DOWN_PAUSE

    def poll(self, timeout: float = 0.0) -> list[Event]:
        """Events so far, waiting up to ``timeout`` for the first; tries of ours that end within
        COALESCE_WINDOW of each other are returned together (one scheduler pass, not one each)."""
        assert self._listener is not None, "CeleryExecutor.start() first"
        events, self._lost = self._lost, []
        events.extend(self._listener.wait(0.0 if events else timeout))
        ours = self._ours(events)
        if ours and self._busy > ours:  # more of ours are out: wait a moment for ends close behind
            deadline = time.monotonic() + COALESCE_WINDOW
            while (left := deadline - time.monotonic()) > 0 and self._busy > ours:
                more = self._listener.wait(left)
                if not more:
                    break
                events.extend(more)
                ours += self._ours(more)
        self._busy = max(self._busy - ours, 0)
        return events

    def _ours(self, events: list[Event]) -> int:
        """How many of ``events`` free a slot of this scheduler's.

        Every scheduler hears every worker's notices: only ours free one of our slots, and not a
        duplicate delivery's (the try it lost to still holds the slot).
        """
        return sum(1 for e in events if e.kind in ("finished", "lost") and e.detail != NOT_CLAIMED
                   and e.workload.queued_by == self._node_id)

    def shutdown(self, wait: bool = True) -> None:
        # Tries run on the workers, which carry on without us: nothing to wait for here.
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._app is not None:
            from tandem.executors.celery.app import close_app

            close_app(self._app)
            self._app = None
