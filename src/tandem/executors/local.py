"""Local executor: warm supervisor processes that fork one child per try.

Supervisors are forked from the scheduler once, with Tandem already imported; each claims
its tries, imports the DAG file once, and forks a child per try, so a try starts in a few
milliseconds. A timeout, a crash (segfault, ``os._exit``, OOM kill) or a runaway subprocess
takes down only that try's child, and the supervisor records it as failed with the reason in
its log. The scheduler hears about every finished try at once, through a pipe.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import selectors
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from tandem.config import Settings
from tandem.db.engine import release_after_fork
from tandem.executors.base import BaseExecutor, ExecutorStart
from tandem.executors.workload import Event, Workload
from tandem.process import die_with_parent

log = logging.getLogger(__name__)


@dataclass
class _Supervisor:
    process: Any
    conn: Connection
    inflight: dict[tuple[Any, ...], Workload]


class LocalExecutor(BaseExecutor):
    """Runs tries on this machine: ``core.local_executor_supervisors`` processes share
    ``parallelism`` slots (several, so that claiming, forking and recording overlap)."""

    name = "local"
    is_local = True

    def __init__(self) -> None:
        self._supervisors: list[_Supervisor] = []
        self._parallelism = 0
        self._start: ExecutorStart | None = None

    def start(self, start: ExecutorStart) -> None:
        self._start = start
        self._parallelism = start.parallelism
        count = min(start.settings.core.local_executor_supervisors, start.parallelism)
        self._supervisors = [self._spawn() for _ in range(count)]

    def _spawn(self) -> _Supervisor:
        assert self._start is not None
        ctx = mp.get_context("fork")
        ours, theirs = ctx.Pipe()
        process = ctx.Process(target=_supervise, args=(theirs, self._start.settings, self._start.node_id),
                              daemon=True, name="tandem-local-supervisor")
        process.start()
        theirs.close()
        return _Supervisor(process, ours, {})

    def wait_handles(self) -> list[Any] | None:
        # A supervisor that dies closes its pipe, which turns readable too.
        return [s.conn for s in self._supervisors]

    def open_slots(self) -> int:
        return self._parallelism - sum(len(s.inflight) for s in self._supervisors)

    def submit(self, workloads: Sequence[Workload]) -> None:
        for workload in workloads:
            sup = min(self._supervisors, key=lambda s: len(s.inflight))
            sup.inflight[_ident(workload)] = workload
            sup.conn.send(workload.to_dict())

    def poll(self, timeout: float = 0.0) -> list[Event]:
        events: list[Event] = []
        self._replace_dead(events)
        for ready in wait([s.conn for s in self._supervisors], timeout):
            sup = next(s for s in self._supervisors if s.conn is ready)
            conn = sup.conn
            try:
                while conn.poll():
                    kind, data, detail = conn.recv()
                    workload = Workload.from_dict(data)
                    sup.inflight.pop(_ident(workload), None)
                    events.append(Event(workload, kind, detail))
            except (EOFError, OSError):
                pass  # the supervisor died; _replace_dead handles it on the next poll
        return events

    def _replace_dead(self, events: list[Event]) -> None:
        for i, sup in enumerate(self._supervisors):
            if sup.process.is_alive():
                continue
            log.error("local executor supervisor %s died (exit %s); starting a new one",
                      sup.process.pid, sup.process.exitcode)
            # Its children outlive it; their tries end as zombies or re-queued, via the DB.
            events.extend(Event(w, "info", "supervisor died") for w in sup.inflight.values())
            sup.conn.close()
            self._supervisors[i] = self._spawn()

    def shutdown(self, wait: bool = True) -> None:
        for sup in self._supervisors:
            try:
                sup.conn.send(("stop", wait))
            except OSError:
                pass
        deadline = time.monotonic() + (3600 if wait else 15)
        for sup in self._supervisors:
            sup.process.join(max(deadline - time.monotonic(), 0.1))
            if sup.process.is_alive():
                sup.process.kill()
                sup.process.join(1)
            sup.conn.close()
        self._supervisors = []


def _ident(workload: Workload) -> tuple[Any, ...]:
    return (*workload.key, workload.try_number)


def _supervise(conn: Connection, settings: Settings, node_id: str) -> None:
    """Supervisor process: start tries as they arrive, report each as soon as it is recorded."""
    from tandem.runner.supervisor import TrySupervisor

    die_with_parent()
    release_after_fork()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the scheduler, which stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def report(workload: Workload, kind: str, detail: str) -> None:
        try:
            conn.send((kind, workload.to_dict(), detail))
        except OSError:
            pass  # the scheduler is gone; the DB has the outcome

    supervisor = TrySupervisor(settings, node_id, report)
    supervisor.selector.register(conn, selectors.EVENT_READ, None)
    stopping = False
    while not (stopping and not supervisor.busy):
        timeout = supervisor.next_deadline()
        ready = supervisor.selector.select(min(timeout, 1.0) if stopping else timeout)
        supervisor.handle([key.data for key, _ in ready if key.data is not None])
        if any(key.data is None for key, _ in ready):
            workloads, stop = _drain(conn)
            if workloads:
                supervisor.start(workloads)
            if stop is not None:
                stopping = True
                supervisor.selector.unregister(conn)
                if not stop:
                    supervisor.terminate_all()
        supervisor.tick()


def _drain(conn: Connection) -> tuple[list[Workload], bool | None]:
    """Every workload waiting in the pipe, and the stop request (wait flag) if one came."""
    workloads: list[Workload] = []
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return workloads, False
        if isinstance(message, tuple):
            return workloads, bool(message[1])
        workloads.append(Workload.from_dict(message))
        if not conn.poll():
            return workloads, None
