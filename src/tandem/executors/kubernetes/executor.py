"""KubernetesExecutor: one pod per try, running the same runner as a Celery worker.

The scheduler side creates pods (``launcher``), follows every worker pod of the namespace
(``watcher``) and acts on its own pods' ends and on dead peers' pods (``monitor``). Like the
Celery executor it keeps no record the DB does not have: a try whose pod never comes stays
queued until ``scheduler.queued_timeout``; a scheduler that dies leaves its pods running (their
runners record their tries) for a peer to adopt and clean up.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tandem.executors.base import BaseExecutor, ExecutorStart
from tandem.executors.workload import Event, Workload

if TYPE_CHECKING:
    from tandem.executors.kubernetes.launcher import PodLauncher
    from tandem.executors.kubernetes.monitor import PodMonitor
    from tandem.executors.kubernetes.watcher import PodWatcher

log = logging.getLogger(__name__)

#: Events handed over in one poll at most, so a flood cannot starve the scheduler loop.
MAX_BATCH = 1000


class KubernetesExecutor(BaseExecutor):
    """Runs each try in a pod of ``kubernetes.namespace``."""

    name = "kubernetes"
    is_local = False

    def __init__(self) -> None:
        self._node_id = ""
        self._parallelism = 0
        self._events: queue.Queue[Event] = queue.Queue()
        self._stop = threading.Event()
        self.launcher: PodLauncher | None = None
        self.watcher: PodWatcher | None = None
        self.monitor: PodMonitor | None = None

    def start(self, start: ExecutorStart) -> None:
        from tandem.executors.kubernetes.client import core_api
        from tandem.executors.kubernetes.launcher import PodLauncher
        from tandem.executors.kubernetes.monitor import PodMonitor
        from tandem.executors.kubernetes.pod import load_template
        from tandem.executors.kubernetes.watcher import PodWatcher

        self._node_id, self._parallelism = start.node_id, start.parallelism
        template = load_template(start.settings)  # a bad template stops the scheduler at once, saying why
        api = core_api(start.settings)
        report = self._events.put
        self.launcher = PodLauncher(api, start.settings, template, start.node_id, report, self._stop)
        self.monitor = PodMonitor(api, start.settings, start.node_id, report, self._stop)
        self.watcher = PodWatcher(api, start.settings, self.monitor.on_list, self.monitor.on_event, self._stop)
        for thread in (self.watcher, self.monitor, self.launcher):
            thread.start()
        log.info("kubernetes executor started: namespace %s", start.settings.kubernetes.namespace)

    def open_slots(self) -> int:
        from tandem.executors.capacity import busy_tries

        return self._parallelism - busy_tries(self._node_id)

    def submit(self, workloads: Sequence[Workload]) -> None:
        assert self.launcher is not None, "KubernetesExecutor.start() first"
        self.launcher.submit(list(workloads))

    def poll(self, timeout: float = 0.0) -> list[Event]:
        events: list[Event] = []
        try:
            events.append(self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait())
        except queue.Empty:
            return events
        while len(events) < MAX_BATCH:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                break
        return events

    def shutdown(self, wait: bool = True) -> None:
        # Pods carry on without us; a restarted scheduler or a peer follows them.
        self._stop.set()
        if self.watcher is not None:
            self.watcher.close()
        if wait:  # the threads are daemons: a scheduler that exits need not wait for a watch to end
            for thread in (self.launcher, self.monitor, self.watcher):
                if thread is not None and thread.is_alive():
                    thread.join(5)
