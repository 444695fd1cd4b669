"""Heartbeat of a running try, so schedulers can tell a live try from a zombie."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.models import TaskInstance, utcnow
from tandem.orchestration import TiKey
from tandem.state import TaskInstanceState

log = logging.getLogger(__name__)


class TryHeartbeat(threading.Thread):
    """Touches ``last_heartbeat`` every ``interval`` seconds while the try is still ours.

    When the row no longer says running with our try number (cleared, marked, or reaped as a
    zombie), ``on_lost`` is called once so the runner stops the task.
    """

    def __init__(self, key: TiKey, try_number: int, interval: float, on_lost: Callable[[], None]) -> None:
        super().__init__(name="try-heartbeat", daemon=True)
        self.key, self.try_number, self.interval = key, try_number, interval
        self.on_lost = on_lost
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                if not self.beat():
                    self.on_lost()
                    return
            except Exception:  # the DB may be away for a moment; the next beat retries
                log.warning("heartbeat of %s failed", self.key, exc_info=True)

    def beat(self) -> bool:
        k = self.key
        with session_scope() as session:
            result = session.execute(
                sa.update(TaskInstance)
                .where(TaskInstance.dag_id == k.dag_id, TaskInstance.run_id == k.run_id,
                       TaskInstance.task_id == k.task_id, TaskInstance.map_index == k.map_index,
                       TaskInstance.try_number == self.try_number,
                       TaskInstance.state == TaskInstanceState.RUNNING.value)
                .values(last_heartbeat=utcnow())
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def stop(self) -> None:
        self._stop_event.set()
