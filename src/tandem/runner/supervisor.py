"""Supervising forked tries: claim, fork, record — for many tries at once, or one.

``TrySupervisor`` is used by the local executor's supervisor processes (many concurrent
tries multiplexed on one selector); ``run_supervised`` runs a single try to its end and is
what a Celery worker calls.
"""

from __future__ import annotations

import logging
import selectors
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tandem.config import Settings
from tandem.db.engine import get_engine
from tandem.db.session import session_scope
from tandem.db.wakeup import notify_now
from tandem.executors.workload import Workload
from tandem.runner.child import XCOMS_PATIENCE, TryChild, fork_try
from tandem.runner.claim import Claim
from tandem.runner.execute import claim_many, default_hostname, finish_many, log_claim
from tandem.runner.logs import TryLog, try_log_path
from tandem.runner.prefetch import Prefetched, read_xcoms, xcom_inputs

log = logging.getLogger(__name__)

#: Called once per workload: (workload, kind, detail), kind "finished" or "lost" (never started).
Reporter = Callable[[Workload, str, str], None]
# Longest wait between two attempts to write a claim or an outcome while the database is away.
MAX_RETRY_WAIT = 5.0
# How long claims are retried before their tries are handed back as lost (re-queued).
CLAIM_PATIENCE = 30.0


@dataclass
class _Retry:
    """Database writes waiting for the database: claims not yet made, outcomes not yet recorded."""

    items: list[Any]
    since: float
    next_at: float
    wait: float = 0.5

    def postpone(self, now: float) -> None:
        self.wait = min(self.wait * 2, MAX_RETRY_WAIT)
        self.next_at = now + self.wait


_warm = False


def warm_up() -> None:
    """Import what every try needs, once, so forked children start with it loaded.

    Whatever a child imports, every child imports again (pendulum alone costs tens of
    milliseconds per try): the list follows the imports of ``execute._prepare`` and
    ``sdk.context.build_context``. Done once per process (a Celery pool process builds a
    supervisor per try, and compiling the template again costs each try a millisecond).
    """
    global _warm
    if _warm:
        return
    import jinja2
    import jinja2.nativetypes
    import jsonschema  # noqa: F401
    import pendulum

    import tandem.dag_processing.parser
    import tandem.runner.assets
    import tandem.runner.other_dags
    import tandem.runner.secrets
    import tandem.sdk.assets
    import tandem.sdk.connection
    import tandem.sdk.context
    import tandem.sdk.mapped
    import tandem.sdk.other_dags
    import tandem.sdk.params
    import tandem.sdk.secrets
    import tandem.sdk.templating  # noqa: F401
    from tandem.exceptions import TaskSkipped  # noqa: F401

    jinja2.Environment().from_string("{{ warm }}").render(warm=1)
    # pendulum loads its timezone data on first use.
    pendulum.instance(pendulum.now("UTC"))
    _warm = True


class TrySupervisor:
    """Runs tries in forked children; the caller feeds it workloads and selector events."""

    def __init__(self, settings: Settings, node_id: str, report: Reporter, hostname: str | None = None,
                 *, wake: bool = True) -> None:
        """``wake``: whether recording outcomes wakes the schedulers through the database;
        false where ``report`` tells them another way."""
        warm_up()
        self.settings = settings
        self.node_id = node_id
        self.hostname = hostname or default_hostname(settings)
        self.report = report
        self.wake = wake
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, TryChild] = {}
        self.claims: list[_Retry] = []
        self.outcomes: list[_Retry] = []

    @property
    def busy(self) -> bool:
        """Tries still running, or claims and outcomes still waiting for the database."""
        return bool(self.children or self.claims or self.outcomes)

    def start(self, workloads: Sequence[Workload]) -> None:
        """Claim the workloads in one transaction and fork a child for each claimed try.

        While the database is away, the claims are retried (claiming is idempotent, so a commit
        whose acknowledgement was lost is found again) for CLAIM_PATIENCE, then handed back.
        """
        now = time.monotonic()
        if not self._claim(list(workloads), now):
            self.claims.append(_Retry(list(workloads), now, now + MAX_RETRY_WAIT / 10))

    def _claim(self, workloads: list[Workload], since: float) -> bool:
        """Claim and fork; False when the database could not be reached and it is worth retrying."""
        try:
            claims = claim_many(workloads, node_id=self.node_id, hostname=self.hostname)
        except sa.exc.SQLAlchemyError as e:
            waited = time.monotonic() - since
            if waited < CLAIM_PATIENCE:
                log.warning("could not claim %d tries (%s); retrying", len(workloads), _first_line(e))
                return False
            log.error("could not claim %d tries for %.0f s (%s); handing them back", len(workloads), waited, e)
            for workload in workloads:
                self.report(workload, "lost", "claim failed: database unavailable")
            return True
        # Every claimed try is forked before anything else touches the database: a claimed try
        # has no heartbeat but its child's, and a read stalled here (a black-holed connection)
        # would get it reaped as a zombie and run again. Children whose arguments pull XComs
        # wait for the rows, read once for the batch below (``runner.prefetch``).
        waiting: list[TryChild] = []
        first_waiting = 0.0
        inputs: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        for workload, claimed in zip(workloads, claims, strict=True):
            trylog = TryLog(try_log_path(self.settings.log_folder, workload.key, workload.try_number))
            log_claim(trylog, workload, claimed, self.hostname)
            trylog.close()
            if claimed is None:
                self.report(workload, "finished", "not claimed")
                continue
            dag = _preload(workload, claimed, self.settings)
            pulled = _xcom_inputs(dag, workload.task_id) if dag is not None else set()
            inputs[(workload.dag_id, workload.run_id)] |= pulled
            child = fork_try(workload, claimed, self.settings, xcoms_follow=bool(pulled))
            self.children[child.pid] = child
            self.selector.register(child.conn, selectors.EVENT_READ, ("outcome", child.pid))
            self.selector.register(child.pidfd, selectors.EVENT_READ, ("exit", child.pid))
            if pulled:
                first_waiting = first_waiting or time.monotonic()
                waiting.append(child)
        if waiting:
            prefetched = _prefetch(inputs)
            # A child that stopped waiting reads the pipe only once its try is over: a late send
            # (larger than the pipe's buffer) would block here until then.
            if time.monotonic() - first_waiting < XCOMS_PATIENCE / 2:
                for child in waiting:
                    child.deliver_xcoms(prefetched.get((child.workload.dag_id, child.workload.run_id), {}))
        return True

    def handle(self, events: Sequence[tuple[str, int]]) -> None:
        """React to selector events registered by ``start``: record outcomes together, reap exits."""
        reporting = []
        for kind, pid in events:
            child = self.children.get(pid)
            if kind == "outcome" and child is not None and child.outcome is None:
                self.selector.unregister(child.conn)
                if child.receive_outcome():
                    reporting.append(child)
        if reporting and not self._record(reporting):
            now = time.monotonic()
            self.outcomes.append(_Retry(reporting, now, now + MAX_RETRY_WAIT / 10))
        for kind, pid in events:
            if kind == "exit" and pid in self.children:
                self._reap(self.children.pop(pid))

    def _record(self, children: list[TryChild], since: float | None = None) -> bool:
        """Record the children's outcomes together; False (kept for a retry) while the DB is away.

        An outcome is never dropped: a try that ran is recorded as it ended, or loses its CAS
        because a peer took it over (reaped it after its heartbeat stopped, or a user cleared it).
        """
        try:
            # Peers are woken below, once the caller has been told: a wake-up inside the
            # transaction is one more round trip on the hop's path.
            finals = finish_many([(c.workload, c.claim, c.outcome) for c in children if c.outcome is not None],
                                 node_id=self.node_id, wake=False)
        except sa.exc.SQLAlchemyError as e:
            if since is None:
                log.warning("could not record %d outcomes (%s); keeping them until the database takes them",
                            len(children), _first_line(e))
            return False
        if since is not None:
            log.info("recorded %d outcomes after %.1f s", len(children), time.monotonic() - since)
        for child, final in zip(children, finals, strict=True):
            self.report(child.workload, "finished", final.value if final else "result discarded")
            child.deliver_final(final)
        if self.wake and any(f is not None for f in finals):
            notify_now(get_engine(), self.node_id)
        return True

    def _retry_due(self, now: float) -> None:
        for retry in [r for r in self.claims if r.next_at <= now]:
            if self._claim(retry.items, retry.since):
                self.claims.remove(retry)
            else:
                retry.postpone(now)
        for retry in [r for r in self.outcomes if r.next_at <= now]:
            if self._record(retry.items, retry.since):
                self.outcomes.remove(retry)
            else:
                retry.postpone(now)

    def _reap(self, child: TryChild) -> None:
        if child.outcome is None:
            try:
                self.selector.unregister(child.conn)
            except KeyError:
                pass
        self.selector.unregister(child.pidfd)
        reason = child.reap()
        if reason is not None:
            self.report(child.workload, "finished", reason)

    def next_deadline(self) -> float:
        """Seconds until a timeout needs enforcing or a database write is retried."""
        deadlines = [c.kill_at for c in self.children.values() if c.kill_at is not None]
        deadlines += [r.next_at for r in (*self.claims, *self.outcomes)]
        return max(min(deadlines) - time.monotonic(), 0.0) if deadlines else 3600.0

    def tick(self) -> None:
        now = time.monotonic()
        for child in self.children.values():
            child.enforce_timeout(now)
        self._retry_due(now)

    def terminate_all(self) -> None:
        for child in self.children.values():
            child.signal_group(signal.SIGTERM)


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _preload(workload: Workload, claimed: Claim, settings: Settings) -> Any:
    """Materialize the run's bundle version and import the DAG file here once, so every forked
    try starts with both done; the DAG, or None.

    Failures are ignored: the child tries again and records the error in the try's log.
    """
    from tandem.runner.bundle import load_run_dag

    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, settings.core.dag_file_processor_timeout)
    try:
        return load_run_dag(workload, claimed, settings)
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - user code at import: sys.exit, errors, our timeout
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _xcom_inputs(dag: Any, task_id: str) -> set[tuple[str, str]]:
    try:
        return xcom_inputs(dag.get_task(task_id))
    except Exception:  # noqa: BLE001 - the child meets the same error and records it
        return set()


def _prefetch(inputs: dict[tuple[str, str], set[tuple[str, str]]]) -> dict[tuple[str, str], Prefetched]:
    """The XComs the starting tries' arguments pull, by run, in one read; {} if it fails
    (each child then reads its own)."""
    wanted = {run: pulled for run, pulled in inputs.items() if pulled}
    if not wanted:
        return {}
    try:
        with session_scope() as session:
            return {run: read_xcoms(session, *run, pulled) for run, pulled in wanted.items()}
    except sa.exc.SQLAlchemyError as e:
        log.debug("could not prefetch the XComs of %d runs: %s", len(wanted), _first_line(e))
        return {}


class _PreloadTimeout(Exception):
    pass


def _raise_timeout(_signum: int, _frame: object) -> None:
    raise _PreloadTimeout()


def run_supervised(workload: Workload, *, settings: Settings, node_id: str,
                   hostname: str | None = None, on_report: Reporter | None = None) -> str:
    """Run one try in a forked child until it ends; return what happened (a state or a reason).

    ``on_report`` is called as soon as the outcome is known (recorded, or the try lost or not
    claimed), before the child has exited; a runner that passes one tells the schedulers
    itself, so the outcome's commit does not wake them as well.
    """
    result: list[str] = []

    def report(w: Workload, kind: str, detail: str) -> None:
        result.append(detail)
        if on_report is not None:
            on_report(w, kind, detail)

    supervisor = TrySupervisor(settings, node_id, report, hostname, wake=on_report is None)
    supervisor.start([workload])
    while supervisor.busy:
        supervisor.handle([key.data for key, _ in supervisor.selector.select(supervisor.next_deadline())])
        supervisor.tick()
    return result[0] if result else "unknown"
