"""A try in a forked child process: crashes, timeouts and runaway subprocesses stay contained.

The parent (a long-lived supervisor with Tandem and the DAG file already imported) claims the
try, forks, and records the outcome the child sends back over a pipe; the child only runs the
task's code. The child runs in its own process group so the whole tree can be stopped.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import cast

import sqlalchemy as sa

from tandem.config import Settings
from tandem.db.engine import release_after_fork
from tandem.executors.workload import Workload
from tandem.runner.claim import Claim
from tandem.runner.crash import record_crash
from tandem.runner.execute import (
    Outcome,
    TryTerminated,
    execute_claimed,
    finish,
    raise_terminated,
    redirect_output_to,
    report_final,
    run_callbacks,
)
from tandem.runner.heartbeat import TryHeartbeat
from tandem.runner.logs import TryLog, try_log_path
from tandem.runner.prefetch import Prefetched
from tandem.state import TaskInstanceState

log = logging.getLogger(__name__)

# Seconds between SIGTERM and SIGKILL when a try must be stopped, and the backstop after a
# try's own execution_timeout (which the child enforces itself first).
KILL_GRACE = 5.0
# How long a child waits for its supervisor to record its outcome before recording it itself.
SUPERVISOR_PATIENCE = 10.0
# How long a child waits for the XComs its supervisor reads for it before reading them itself.
XCOMS_PATIENCE = 5.0
# What the supervisor sends a child over their pipe, tagged: the prefetched XComs, then the final state.
_XCOMS, _FINAL = "xcoms", "final"


@dataclass
class TryChild:
    """The parent's handle on one forked try."""

    workload: Workload
    claim: Claim
    pid: int
    pidfd: int
    conn: Connection
    kill_at: float | None
    outcome: Outcome | None = None
    final: TaskInstanceState | None = None
    killed_for: str | None = None

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def receive_outcome(self) -> bool:
        """Read the outcome the child sent; False if it died mid-send (``reap`` records that)."""
        try:
            self.outcome = self.conn.recv()
        except (EOFError, OSError):
            return False
        return True

    def deliver_xcoms(self, xcoms: Prefetched) -> None:
        """Hand the child the XComs its arguments pull (``{}``: it reads them itself)."""
        try:
            self.conn.send((_XCOMS, xcoms))
        except OSError:
            pass

    def deliver_final(self, final: TaskInstanceState | None) -> None:
        """Tell the child how its try was recorded, so it runs the right callbacks."""
        self.final = final
        try:
            self.conn.send((_FINAL, final.value if final else None))
        except OSError:
            pass

    def reap(self) -> str | None:
        """Collect the exit status; record a crash when no outcome came. The crash reason, if any."""
        _, status = os.waitpid(self.pid, 0)
        os.close(self.pidfd)
        self.conn.close()
        # Subprocesses the try started (its process group) must not outlive it.
        self.signal_group(signal.SIGKILL)
        if self.outcome is not None:
            return None
        reason = self.killed_for or describe_exit(status)
        try:
            self.final = record_crash(self.workload, reason)
        except Exception:
            log.exception("could not record the crash of %s", self.workload)
        return reason

    def enforce_timeout(self, now: float) -> None:
        if self.kill_at is not None and now >= self.kill_at:
            self.killed_for = f"killed: still running {KILL_GRACE:.0f} s after its execution_timeout"
            self.signal_group(signal.SIGKILL)
            self.kill_at = None


def describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status))
        reason = f"the try's process was killed by signal {sig.name}"
        if sig == signal.SIGKILL:
            reason += " (out of memory, or killed from outside)"
        return reason
    return f"the try's process exited with code {os.WEXITSTATUS(status)} before reporting an outcome"


class CannotLog(Exception):
    """The try's log file cannot be opened."""


def fork_try(workload: Workload, claim: Claim, settings: Settings, *, xcoms_follow: bool = False) -> TryChild:
    """Fork the try's child. ``xcoms_follow``: the supervisor will send the XComs its arguments
    pull (``TryChild.deliver_xcoms``) once it has read them, and the child waits for them."""
    ours, theirs = Pipe()
    # Objects alive now are never collected in the child: keeping the GC off them spares the
    # copy-on-write page copies a collection would cause in every forked try.
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        ours.close()
        _child_main(theirs, workload, claim, settings, xcoms_follow)
    theirs.close()
    kill_at = None
    if workload.execution_timeout is not None:
        kill_at = time.monotonic() + workload.execution_timeout + KILL_GRACE
    return TryChild(workload, claim, pid, os.pidfd_open(pid), ours, kill_at)


def _await_record(conn: Connection, workload: Workload, claim: Claim, outcome: Outcome) -> TaskInstanceState | None:
    """Hand the outcome to the supervisor and wait for it to be recorded.

    Should the supervisor die (with its scheduler) or stop answering (paused), the child records
    the outcome itself rather than leave the try to be reaped as a zombie and run again; while
    the database is away, both keep trying, and the compare-and-set lets only one of them win.
    """
    try:
        conn.send(outcome)
    except OSError:
        pass
    patience = SUPERVISOR_PATIENCE
    while True:
        try:
            if conn.poll(patience):
                kind, reply = conn.recv()
                if kind != _FINAL:  # XComs sent after this child stopped waiting for them
                    continue
                return TaskInstanceState(reply) if reply else None
        except (OSError, EOFError):
            pass  # the supervisor is gone
        try:
            return finish(workload, claim, outcome)
        except sa.exc.SQLAlchemyError:
            patience = min(patience * 2, 30.0)


def _await_xcoms(conn: Connection) -> Prefetched:
    """The XComs the supervisor read for this try; ``{}`` (the try reads its own) if it does
    not send them within XCOMS_PATIENCE, or is gone."""
    try:
        if conn.poll(XCOMS_PATIENCE):
            kind, xcoms = conn.recv()
            if kind == _XCOMS:
                return cast(Prefetched, xcoms)
    except (OSError, EOFError):
        pass
    return {}


def _child_main(conn: Connection, workload: Workload, claim: Claim, settings: Settings, xcoms_follow: bool) -> None:
    code = 1
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # A SIGTERM that arrives before the task's code starts still ends the try as terminated.
        signal.signal(signal.SIGTERM, raise_terminated)
        trylog = TryLog(try_log_path(settings.log_folder, workload.key, workload.try_number))
        # The try heartbeats from here until its outcome is recorded, so that neither a paused
        # supervisor nor one waiting out a database outage makes it look like a zombie.
        executing = threading.Event()

        def stop_if_executing() -> None:  # taken away (cleared, marked, reaped): stop the code
            if executing.is_set():
                os.kill(os.getpid(), signal.SIGTERM)

        heartbeat = TryHeartbeat(workload.key, workload.try_number, settings.scheduler.heartbeat_interval,
                                 on_lost=stop_if_executing)
        try:
            release_after_fork()  # never touch the supervisor's sockets; connect anew only if needed
            if trylog.error is not None:
                raise CannotLog(trylog.error)
            redirect_output_to(trylog)
            executing.set()
            heartbeat.start()
            if xcoms_follow:
                claim = dataclasses.replace(claim, xcoms=_await_xcoms(conn))
            outcome, prepared = execute_claimed(workload, claim, trylog)
            executing.clear()
        except CannotLog as e:
            # A full or failing log disk: this try fails with the reason (and may retry);
            # nothing else is affected.
            outcome, prepared = Outcome(TaskInstanceState.FAILED, reason=f"cannot write the try's log: {e}"), None
        except TryTerminated as e:
            executing.clear()
            outcome, prepared = Outcome(TaskInstanceState.FAILED, reason=f"terminated: {e}"), None
            trylog.line(outcome.reason or "", "ERROR")
        try:
            final = _await_record(conn, workload, claim, outcome)
        finally:
            heartbeat.stop()
        report_final(trylog, final, outcome)
        if final:
            run_callbacks(prepared, final, trylog)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)
