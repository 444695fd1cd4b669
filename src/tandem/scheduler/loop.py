"""The scheduler loop: ``run_once(now)`` does one pass; ``run_forever`` repeats it.

A pass is a few short transactions: create due runs, start queued runs, schedule a locked
batch of running runs, queue what fits, hand it to the executor. The loop sleeps only when a
pass found nothing to do, and wakes at once when the executor reports a finished try.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cluster.nodes import heartbeat_node
from tandem.config import Settings
from tandem.db.dialects import dialect_for
from tandem.db.session import session_scope
from tandem.executors.base import BaseExecutor
from tandem.executors.workload import Event, Workload
from tandem.models import utcnow
from tandem.orchestration import transition_ti
from tandem.scheduler.assets import create_asset_triggered_runs
from tandem.scheduler.callbacks import CallbackRunner
from tandem.scheduler.critical_section import LockBusy, queue_task_instances
from tandem.scheduler.dag_data import DagDataCache
from tandem.scheduler.dagruns import create_scheduled_runs, start_queued_runs
from tandem.scheduler.maintenance import repair
from tandem.scheduler.scheduling import schedule_runs
from tandem.state import TaskInstanceState

log = logging.getLogger(__name__)

# Seconds between repair passes (zombies, stuck queued tries, dead peers).
REPAIR_INTERVAL = 5.0
# Longest a pass woken by a finished try may skip looking for new runs (created or triggered
# elsewhere); such passes only move the runs they already know about, and need fewer queries.
DISCOVERY_INTERVAL = 0.5


@dataclass
class LoopStats:
    created: int = 0
    started: int = 0
    scheduled: int = 0
    queued: int = 0
    finished_runs: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.created or self.started or self.scheduled or self.queued or self.finished_runs)


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

    def run_once(self, now: datetime | None = None, *, discover: bool = True) -> LoopStats:
        """One pass; ``discover`` also creates due runs and starts queued ones."""
        now = now or utcnow()
        cfg = self.settings.scheduler
        stats = LoopStats()
        # One transaction (one commit) for run creation and scheduling; queuing has its own,
        # under the critical-section lock, so that lock is held as briefly as possible.
        with session_scope(self.engine) as session:
            if discover:
                self._last_discovery = time.monotonic()
                if self.only is None:
                    stats.created = create_scheduled_runs(session, self.dialect, self.cache, now,
                                                          cfg.max_dagruns_per_loop)
                    stats.created += create_asset_triggered_runs(session, self.dialect, self.cache, now,
                                                                 cfg.max_dagruns_per_loop)
                stats.started = start_queued_runs(session, self.dialect, self.cache, now,
                                                  cfg.max_dagruns_per_loop, only=self.only)
            s = schedule_runs(session, self.dialect, self.cache, now, cfg.max_dagruns_per_loop, only=self.only)
            stats.scheduled, stats.finished_runs = s.scheduled, s.finished_runs
        if s.callbacks:  # only once the run's final state is committed
            self.callbacks.start(s.callbacks)
        workloads = self._queue(now)
        stats.queued = len(workloads)
        if workloads:
            self.executor.submit(workloads)
        return stats

    def _queue(self, now: datetime) -> list[Workload]:
        try:
            with session_scope(self.engine) as session:
                return queue_task_instances(
                    session, self.dialect, self.cache, node_id=self.node_id,
                    executor_slots=self.executor.open_slots(), max_tis=self.settings.scheduler.max_tis_per_query,
                    now=now, only=self.only,
                )
        except LockBusy:
            return []

    def handle_events(self, events: list[Event]) -> None:
        """Hand lost workloads back to the scheduled state (kept and retried while the DB is away)."""
        self._lost.extend(e.workload for e in events if e.kind == "lost")
        while self._lost:
            workload = self._lost[0]
            with session_scope(self.engine) as session:
                transition_ti(session, workload.key, TaskInstanceState.QUEUED, TaskInstanceState.SCHEDULED,
                              try_number=workload.try_number - 1)
            self._lost.pop(0)

    def housekeeping(self, now: datetime) -> None:
        mono = time.monotonic()
        if mono - self._last_heartbeat >= self.settings.scheduler.heartbeat_interval:
            with session_scope(self.engine) as session:
                heartbeat_node(session, self.node_id)
            self._last_heartbeat = mono
        if mono - self._last_repair >= REPAIR_INTERVAL:
            with session_scope(self.engine) as session:
                stats = repair(session, self.dialect, self.cache, self.settings, now)
            if stats.zombies or stats.requeued or stats.dead_nodes:
                log.info("repairs: %s", stats)
            self._last_repair = mono

    def run_forever(self, stop: threading.Event) -> None:
        backoff = 0.0
        busy = True
        while not stop.is_set():
            try:
                events = self.executor.poll(0.0 if busy else self.settings.scheduler.poll_interval)
                self.handle_events(events)
                self.housekeeping(utcnow())
                discover = not events or time.monotonic() - self._last_discovery >= DISCOVERY_INTERVAL
                stats = self.run_once(discover=discover)
                busy = stats.busy or (not discover and bool(events))
                backoff = 0.0
            except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DBAPIError) as e:
                backoff = min(max(backoff * 2, 0.5), 30.0)
                log.error("database error, retrying in %.1f s: %s", backoff, str(e).splitlines()[0])
                stop.wait(backoff)
