"""One try in one forked child: crash containment and hard timeouts, shared by executors.

The child runs in its own process group, so a timeout, a crash (segfault, ``os._exit``, OOM
kill) or a runaway subprocess takes down only that try. Whoever forked it (a local-executor
supervisor, a Celery pool process) reaps it and records a crash the runner could not record.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import time
import traceback
from dataclasses import dataclass
from types import FrameType

from tandem.db.engine import dispose_engines
from tandem.executors.workload import Workload

log = logging.getLogger(__name__)

# Seconds between SIGTERM and SIGKILL when a try must be stopped.
KILL_GRACE = 5.0

_PR_SET_PDEATHSIG = 1


@dataclass
class TryChild:
    """A forked try, as its parent tracks it."""

    workload: Workload
    pidfd: int
    kill_at: float | None
    killed_for: str | None = None
    term_sent: float | None = None


def fork_try(workload: Workload, node_id: str, *, hostname: str | None = None,
             die_with_parent: bool = False) -> tuple[int, TryChild]:
    """Fork a child that runs ``workload`` through the runner; return its pid and handle.

    ``die_with_parent`` ties the try to its parent's life: a Celery worker that is killed takes
    its tries with it, so their heartbeats stop and a peer retries them, instead of leaving
    unsupervised orphans running.
    """
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            if die_with_parent:
                die_with(parent)
            os.setpgid(0, 0)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            dispose_engines()
            from tandem.runner.execute import run_workload

            run_workload(workload, node_id=node_id, hostname=hostname)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    kill_at = None
    if workload.execution_timeout is not None:
        # The runner stops itself at the timeout; this is the backstop for code that ignores signals.
        kill_at = time.monotonic() + workload.execution_timeout + KILL_GRACE
    return pid, TryChild(workload, os.pidfd_open(pid), kill_at)


def enforce_timeouts(children: dict[int, TryChild]) -> None:
    """SIGKILL the group of every child past its hard deadline."""
    now = time.monotonic()
    for pid, child in children.items():
        if child.kill_at is not None and now >= child.kill_at:
            child.killed_for = f"killed: still running {KILL_GRACE:.0f} s after its execution_timeout"
            signal_group(pid, signal.SIGKILL)
            child.kill_at = None


def signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def after_exit(child: TryChild, status: int) -> tuple[str, str]:
    """Turn a child's wait status into an event; record the crash when the runner could not."""
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


def run_try_in_child(workload: Workload, node_id: str, *, hostname: str | None = None) -> tuple[str, str]:
    """Fork one try, wait for it while enforcing its hard timeout, return ``(kind, detail)``.

    A SIGTERM sent to the caller while it waits (a cold worker shutdown) is passed on to the
    try, which then records itself as terminated; SIGKILL follows after ``KILL_GRACE``.
    """
    pid, child = fork_try(workload, node_id, hostname=hostname, die_with_parent=True)

    def _forward_term(_signum: int, _frame: FrameType | None) -> None:
        if child.term_sent is None:
            child.term_sent = time.monotonic()
            signal_group(pid, signal.SIGTERM)
            child.kill_at = min(child.kill_at or float("inf"), child.term_sent + KILL_GRACE)

    previous = signal.signal(signal.SIGTERM, _forward_term)
    poller = select.poll()
    poller.register(child.pidfd, select.POLLIN)
    try:
        while True:
            # Wake at least every second: a forwarded SIGTERM may have set a deadline meanwhile.
            timeout = 1.0 if child.kill_at is None else min(max(child.kill_at - time.monotonic(), 0.0), 1.0)
            if poller.poll(int(timeout * 1000) + 1):
                break
            enforce_timeouts({pid: child})
        _, status = os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGTERM, previous)
        os.close(child.pidfd)
    return after_exit(child, status)


def die_with(parent: int | None = None) -> None:
    """Ask Linux to SIGKILL this process when its parent dies, however it dies."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        return
    if parent is not None and os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
