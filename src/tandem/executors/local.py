"""Local executor: warm supervisor processes that fork one child per try.

Supervisors are forked from the scheduler once, with Tandem already imported, so a try starts
in a few milliseconds. Each try runs in its own forked child in its own process group: a
timeout, a crash (segfault, ``os._exit``, OOM kill) or a runaway subprocess takes down only
that try, which the supervisor then records as failed with the reason in its log.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import selectors
import signal
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from tandem.db.engine import dispose_engines
from tandem.executors.base import BaseExecutor, ExecutorStart
from tandem.executors.workload import Event, Workload

log = logging.getLogger(__name__)

# Seconds between SIGTERM and SIGKILL when a try must be stopped.
KILL_GRACE = 5.0


@dataclass
class _Supervisor:
    process: Any
    conn: Connection
    inflight: dict[tuple[Any, ...], Workload]


class LocalExecutor(BaseExecutor):
    """Runs tries on this machine. ``processes`` supervisors share ``parallelism`` slots."""

    name = "local"
    is_local = True

    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._supervisors: list[_Supervisor] = []
        self._parallelism = 0
        self._start: ExecutorStart | None = None

    def start(self, start: ExecutorStart) -> None:
        self._start = start
        self._parallelism = start.parallelism
        self._supervisors = [self._spawn() for _ in range(self.processes)]

    def _spawn(self) -> _Supervisor:
        assert self._start is not None
        ctx = mp.get_context("fork")
        ours, theirs = ctx.Pipe()
        process = ctx.Process(target=_supervise, args=(theirs, self._start.node_id), daemon=True,
                              name="tandem-local-supervisor")
        process.start()
        theirs.close()
        return _Supervisor(process, ours, {})

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
        conns = [s.conn for s in self._supervisors]
        for conn in wait(conns, timeout):
            sup = next(s for s in self._supervisors if s.conn is conn)
            while True:
                try:
                    if not conn.poll():
                        break
                    kind, data, detail = conn.recv()
                except (EOFError, OSError):
                    break
                workload = Workload.from_dict(data)
                sup.inflight.pop(_ident(workload), None)
                events.append(Event(workload, kind, detail))
        return events

    def _replace_dead(self, events: list[Event]) -> None:
        for i, sup in enumerate(self._supervisors):
            if sup.process.is_alive():
                continue
            log.error("local executor supervisor %s died (exit %s); starting a new one",
                      sup.process.pid, sup.process.exitcode)
            # Its children outlive it and record their own outcome; the scheduler re-checks.
            events.extend(Event(w, "info", "supervisor died") for w in sup.inflight.values())
            sup.conn.close()
            self._supervisors[i] = self._spawn()

    def shutdown(self, wait: bool = True) -> None:
        for sup in self._supervisors:
            try:
                sup.conn.send(("stop", wait))
            except OSError:
                pass
        deadline = time.monotonic() + (3600 if wait else KILL_GRACE * 2)
        for sup in self._supervisors:
            sup.process.join(max(deadline - time.monotonic(), 0.1))
            if sup.process.is_alive():
                sup.process.kill()
                sup.process.join(1)
            sup.conn.close()
        self._supervisors = []


def _ident(workload: Workload) -> tuple[Any, ...]:
    return (*workload.key, workload.try_number)


@dataclass
class _Child:
    workload: Workload
    pidfd: int
    kill_at: float | None
    killed_for: str | None = None
    term_sent: float | None = None


def _supervise(conn: Connection, node_id: str) -> None:
    """Supervisor main loop: fork a child per workload, reap children, enforce hard timeouts."""
    dispose_engines()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the scheduler, which stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    children: dict[int, _Child] = {}
    selector = selectors.DefaultSelector()
    selector.register(conn, selectors.EVENT_READ)
    stopping = False
    while not (stopping and not children):
        now = time.monotonic()
        deadlines = [c.kill_at for c in children.values() if c.kill_at is not None]
        timeout = max(min(deadlines) - now, 0) if deadlines else None
        for key, _ in selector.select(timeout if not stopping else min(timeout or 1.0, 1.0)):
            if key.fileobj is conn:
                try:
                    message = conn.recv()
                except EOFError:
                    message = ("stop", False)
                if isinstance(message, tuple):
                    stopping = True
                    selector.unregister(conn)
                    if not message[1]:
                        for pid in children:
                            _signal_group(pid, signal.SIGTERM)
                    continue
                pid, child = _fork_try(Workload.from_dict(message), node_id)
                children[pid] = child
                selector.register(child.pidfd, selectors.EVENT_READ, pid)
            else:
                pid = key.data
                child = children.pop(pid)
                selector.unregister(child.pidfd)
                os.close(child.pidfd)
                _, status = os.waitpid(pid, 0)
                kind, detail = _after_exit(child, status)
                conn.send((kind, child.workload.to_dict(), detail))
        _enforce_timeouts(children)


def _fork_try(workload: Workload, node_id: str) -> tuple[int, _Child]:
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.setpgid(0, 0)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            dispose_engines()
            from tandem.runner.execute import run_workload

            run_workload(workload, node_id=node_id)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    kill_at = None
    if workload.execution_timeout is not None:
        # The runner stops itself at the timeout; this is the backstop for code that ignores signals.
        kill_at = time.monotonic() + workload.execution_timeout + KILL_GRACE
    return pid, _Child(workload, os.pidfd_open(pid), kill_at)


def _enforce_timeouts(children: dict[int, _Child]) -> None:
    now = time.monotonic()
    for pid, child in children.items():
        if child.kill_at is not None and now >= child.kill_at:
            child.killed_for = f"killed: still running {KILL_GRACE:.0f} s after its execution_timeout"
            _signal_group(pid, signal.SIGKILL)
            child.kill_at = None


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _after_exit(child: _Child, status: int) -> tuple[str, str]:
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return "finished", ""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        reason = child.killed_for or f"the try's process was killed by signal {signal.Signals(sig).name}"
        if sig == signal.SIGKILL and not child.killed_for:
            reason += " (out of memory, or killed from outside)"
    else:
        reason = f"the try's process exited with code {os.WEXITSTATUS(status)}"
    from tandem.runner.crash import record_crash

    try:
        record_crash(child.workload, reason)
    except Exception:
        log.exception("could not record the crash of %s", child.workload)
    return "finished", reason


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this supervisor when the scheduler dies, however it dies."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
