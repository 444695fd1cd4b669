"""The scheduler loop: ``run_once(now)`` does one pass; ``run_forever`` repeats it.

A pass is one short transaction: create due runs, start queued runs, schedule a locked batch
of running runs, queue what fits; after its commit, the queued work goes to the executor. The
loop sleeps when a pass left nothing to do at once, and wakes as soon as the executor reports
a finished try or a peer's wake-up says that work finished or a run was created elsewhere
(``tandem.db.wakeup``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import wait as connection_wait

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tandem.cluster.nodes import heartbeat_node
from tandem.config import Settings
from tandem.db.dialects import dialect_for
from tandem.db.session import session_scope
from tandem.db.wakeup import Listener
from tandem.executors.base import BaseExecutor
from tandem.executors.workload import Event, Workload
from tandem.models import utcnow
from tandem.observability import instruments
from tandem.observability.load import scheduler_load
from tandem.orchestration import transition_ti
from tandem.scheduler.assets import create_asset_triggered_runs
from tandem.scheduler.callbacks import CallbackRunner
from tandem.scheduler.critical_section import LockBusy, has_candidates, queue_task_instances
from tandem.scheduler.dag_data import DagDataCache
from tandem.scheduler.dagruns import create_scheduled_runs, start_queued_runs
from tandem.scheduler.maintenance import repair
from tandem.scheduler.probe import UNKNOWN, pending
from tandem.scheduler.scheduling import RunUnschedulable, ScheduleStats, schedule_runs
from tandem.state import TaskInstanceState

log = logging.getLogger(__name__)

# Seconds between repair passes (zombies, stuck queued tries, dead peers).
REPAIR_INTERVAL = 5.0
# Longest a pass woken by a finished try may skip looking for new runs (created or triggered
# elsewhere); such passes only move the runs they already know about, and need fewer queries.
DISCOVERY_INTERVAL = 0.5
# While idle, how often an executor without wait handles is polled between checks for a peer's wake-up.
WAKE_SLICE = 0.02
# Seconds before a broken wake-up listener is opened again (meanwhile the loop polls).
RELISTEN_INTERVAL = 10.0


@dataclass
class LoopStats:
    created: int = 0
    started: int = 0
    scheduled: int = 0
    queued: int = 0
    finished_runs: int = 0

    #: The pass stopped at a limit (runs per loop, instances per critical section): more is waiting.
    truncated: bool = False

    @property
    def busy(self) -> bool:
        return bool(self.created or self.started or self.scheduled or self.queued or self.finished_runs)

    @property
    def left_work(self) -> bool:
        """Whether the next pass has work at once. Tries just queued do not count: their
        outcomes wake the loop. Scheduled instances that did not fit might fit in a moment."""
        return bool(self.created or self.started or self.finished_runs or self.truncated
                    or self.scheduled > self.queued)


class Scheduler:
    """One scheduler. Holds no state a peer would need: the database has it all."""

    def __init__(self, settings: Settings, executor: BaseExecutor, *, engine: Engine, node_id: str,
                 only: tuple[str, str] | None = None) -> None:
        """``only`` = (dag_id, run_id) restricts the scheduler to that run (``tandem dags test``)."""
        self.settings = settings
        self.only = only
        self.executor = executor
        self.engine = engine
        self.node_id = node_id
        self.dialect = dialect_for(engine.url.render_as_string(hide_password=False))
        self.cache = DagDataCache(max_age=1.0)
        self.callbacks = CallbackRunner(settings)
        self._last_repair = 0.0
        self._last_heartbeat = 0.0
        self._lost: list[Workload] = []
        self._last_discovery = 0.0
        self._discovery_owed = False
        # Since when this scheduler has reached the database without interruption: heartbeats
        # that went silent while it could not see the database prove nothing about their owners.
        # An interruption is an error, or a gap longer than ``_max_gap`` between two good passes
        # (a call that hung on a black-holed connection, this process paused or starved).
        self._db_ok_since = self._last_ok = time.monotonic()
        self._max_gap = max(2 * settings.scheduler.heartbeat_interval, settings.scheduler.zombie_threshold / 2)
        self._listener: Listener | None = None
        self._listen_at = 0.0
        self._queued_nothing = False
        self._idle = False  # the last pass discovered and did nothing: the next one probes first

    def run_once(self, now: datetime | None = None, *, discover: bool = True) -> LoopStats:
        """One pass; ``discover`` also creates due runs and starts queued ones."""
        now = now or utcnow()
        cfg = self.settings.scheduler
        stats = LoopStats()
        slots = self.executor.open_slots()
        # One transaction (one commit) for run creation, scheduling and queuing: the queuing
        # part takes the critical-section lock, which is held from there to the commit.
        with session_scope(self.engine) as session:
            self._discovery_owed = not discover
            # After a pass that did nothing, one read says which parts have anything to do.
            todo = pending(session, now) if discover and self._idle and self.only is None else UNKNOWN
            if discover:
                self._last_discovery = time.monotonic()
                if self.only is None:
                    if todo.due_dags:
                        stats.created = create_scheduled_runs(session, self.dialect, self.cache, now,
                                                              cfg.max_dagruns_per_loop)
                    if todo.asset_dags:
                        stats.created += create_asset_triggered_runs(session, self.dialect, self.cache, now,
                                                                     cfg.max_dagruns_per_loop)
                if todo.runs_to_start or stats.created:  # a run created now starts in this pass
                    stats.started = start_queued_runs(session, self.dialect, now,
                                                      cfg.max_dagruns_per_loop, only=self.only)
            try:
                s = (schedule_runs(session, self.dialect, self.cache, now, cfg.max_dagruns_per_loop, only=self.only)
                     if todo.runs_to_schedule or stats.created or stats.started else ScheduleStats())
            except RunUnschedulable as e:
                session.rollback()
                e.mark(session, now)
                stats.truncated = True  # everything else of this pass is done again at once
                return stats
            stats.scheduled, stats.finished_runs = s.scheduled, s.finished_runs
            # A full batch that moved something: the runs behind it may have work too. One
            # that moved nothing waits like any idle pass (or >batch quiet runs would spin).
            stats.truncated = s.runs >= cfg.max_dagruns_per_loop and bool(s.scheduled or s.finished_runs)
            # After a critical section that queued nothing, a pass that scheduled nothing first
            # asks whether anything waits (a peer may have scheduled it) before taking the lock.
            idle = (self._queued_nothing and not s.scheduled and self.only is None
                    and not (todo.candidates if todo is not UNKNOWN else has_candidates(session)))
            workloads = [] if idle else self._queue(session, now, slots)
        if s.callbacks:  # only once the run's final state is committed
            self.callbacks.start(s.callbacks)
        self._queued_nothing = not workloads
        stats.queued = len(workloads)
        self._idle = discover and not (stats.created or stats.started or s.scheduled or s.finished_runs
                                       or workloads)
        stats.truncated = stats.truncated or stats.queued >= cfg.max_tis_per_query
        if workloads:
            self.executor.submit(workloads)
        return stats

    def _queue(self, session: Session, now: datetime, slots: int) -> list[Workload]:
        started = time.perf_counter()
        try:
            queued = queue_task_instances(
                session, self.dialect, self.cache, node_id=self.node_id,
                executor_slots=slots, max_tis=self.settings.scheduler.max_tis_per_query,
                now=now, only=self.only,
            )
        except LockBusy:
            instruments.critical_section_busy()
            return []
        instruments.critical_section(time.perf_counter() - started, len(queued))
        return queued

    def handle_events(self, events: list[Event]) -> None:
        """Hand lost workloads back to the scheduled state (kept and retried while the DB is away)."""
        self._lost.extend(e.workload for e in events if e.kind == "lost")
        while self._lost:
            workload = self._lost[0]
            with session_scope(self.engine) as session:
                transition_ti(session, workload.key, TaskInstanceState.QUEUED, TaskInstanceState.SCHEDULED,
                              try_number=workload.try_number - 1,
                              guard={"queued_by": workload.queued_by} if workload.queued_by else None)
            self._lost.pop(0)

    def housekeeping(self, now: datetime) -> None:
        cfg = self.settings.scheduler
        mono = time.monotonic()
        if mono - self._last_heartbeat >= cfg.heartbeat_interval:
            load = scheduler_load(self.engine, self.node_id, self.executor)
            with session_scope(self.engine) as session:
                alive = heartbeat_node(session, self.node_id, load=load)
            instruments.scheduler_heartbeat()
            self._last_heartbeat = mono
            if not alive:
                self._fenced()
            # Read the clock again: the load's query swallows its own errors, so one that hung
            # on a black-holed connection until the outage ended shows only as the time it took,
            # and the heartbeats that went silent meanwhile must not be judged at once.
            mono = time.monotonic()
        if mono - self._last_ok > self._max_gap:
            self._db_ok_since = mono
        if mono - self._last_repair >= REPAIR_INTERVAL:
            seen_for = mono - self._db_ok_since
            with session_scope(self.engine) as session:
                stats = repair(session, self.dialect, self.cache, self.settings, now,
                               judge_nodes=seen_for >= cfg.node_timeout, judge_zombies=seen_for >= cfg.zombie_threshold)
            instruments.repaired(stats)
            if stats.zombies or stats.requeued or stats.dead_nodes or stats.failed_queued:
                log.info("repairs: %s", stats)
            self._last_repair = mono

    def _fenced(self) -> None:
        """A peer declared this scheduler dead (it was paused, or cut off): its queued work has
        been adopted. Forget what it believed and start over; its late writes lose their CAS."""
        log.warning("scheduler %s had been declared dead by a peer (heartbeats were late); its queued work "
                    "was adopted; dropping its cached view and carrying on", self.node_id)
        self.cache = DagDataCache(max_age=self.cache.max_age)
        self._lost.clear()
        self._db_ok_since = time.monotonic()

    def wait(self, timeout: float) -> list[Event]:
        """The executor's events, waiting up to ``timeout`` for one or for a peer's wake-up
        (work finished or a run created elsewhere)."""
        if timeout > 0 and self._listener is None and time.monotonic() >= self._listen_at:
            self._listen_at = time.monotonic() + RELISTEN_INTERVAL
            self._listener = Listener.open(self.engine, ignore=self.node_id)
        if timeout <= 0 or self._listener is None:
            return self.executor.poll(timeout)
        deadline = time.monotonic() + timeout
        while True:
            handles = self.executor.wait_handles()  # again each time: a dead supervisor is replaced
            try:
                if handles is not None:  # one wait on both: an idle scheduler sleeps until something happens
                    fileno = self._listener.fileno()
                    listen = fileno in connection_wait([*handles, fileno], max(deadline - time.monotonic(), 0.0))
                else:
                    listen = True
            except (OSError, ValueError):  # a handle closed under the wait (the listener, a dead supervisor)
                listen = True
            events = self.executor.poll(0.0 if handles is not None else
                                        min(WAKE_SLICE, max(deadline - time.monotonic(), 0.0)))
            try:
                woken = listen and self._listener.ready()
            except Exception as e:  # noqa: BLE001 - a broken listener: poll until it is reopened
                log.warning("wake-up listener failed (%s); polling meanwhile", e)
                self.close()
                return events
            if events or woken or time.monotonic() >= deadline:
                return events

    def _idle_timeout(self) -> float:
        """Until an outcome or a wake-up comes; passes woken by outcomes skip discovery, which
        is made up within DISCOVERY_INTERVAL (not at once: a pass in progress delays the next hop)."""
        timeout = self.settings.scheduler.poll_interval
        if self._discovery_owed:
            timeout = min(timeout, max(self._last_discovery + DISCOVERY_INTERVAL - time.monotonic(), 0.0))
        return timeout

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def run_forever(self, stop: threading.Event) -> None:
        """Loop until ``stop``; survives any error, backing off, and logs each kind of error once."""
        try:
            self._loop(stop)
        finally:
            self.close()

    def _loop(self, stop: threading.Event) -> None:
        backoff = 0.0
        busy = True
        failing: str | None = None
        while not stop.is_set():
            try:
                events = self.wait(0.0 if busy else self._idle_timeout())
                pass_started = time.perf_counter()
                self.handle_events(events)
                self.housekeeping(utcnow())
                discover = not events or time.monotonic() - self._last_discovery >= DISCOVERY_INTERVAL
                stats = self.run_once(discover=discover)
                instruments.scheduler_pass(pass_started)
                busy = stats.left_work
                self._last_ok = time.monotonic()
                if failing is not None:
                    log.info("scheduler loop recovered")
                    failing = None
                backoff = 0.0
            except Exception as e:  # noqa: BLE001 - crash-only is for the process, not for one bad pass
                backoff = min(max(backoff * 2, 0.5), 30.0)
                summary = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                if isinstance(e, sa.exc.DBAPIError):
                    self._db_ok_since = time.monotonic() + backoff
                    instruments.db_error("scheduler")
                    log.error("database error, retrying in %.1f s: %s", backoff, summary)
                elif summary != failing:
                    log.exception("scheduler pass failed, retrying in %.1f s", backoff)
                else:
                    log.error("scheduler pass failed again, retrying in %.1f s: %s", backoff, summary)
                failing = summary
                stop.wait(backoff)
