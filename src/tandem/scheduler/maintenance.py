"""Periodic repairs: zombies, tries stuck in queued, and work of dead schedulers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.backfill.control import complete_finished_backfills
from tandem.cluster.nodes import declare_dead, live_node_ids
from tandem.config import Settings
from tandem.db.dialects import BaseDialect
from tandem.models import TaskInstance
from tandem.orchestration import RetryParams, TiKey, transition_ti, transition_tis
from tandem.runner.claim import close_try_record
from tandem.runner.logs import append_line
from tandem.scheduler.dag_data import DagDataCache
from tandem.state import TaskInstanceState as S

log = logging.getLogger(__name__)


@dataclass
class RepairStats:
    zombies: int = 0
    requeued: int = 0
    failed_queued: int = 0
    dead_nodes: int = 0


def _key(row: TaskInstance) -> TiKey:
    return TiKey(row.dag_id, row.run_id, row.task_id, row.map_index)


def repair(session: Session, dialect: BaseDialect, cache: DagDataCache, settings: Settings,
           now: datetime, *, judge_nodes: bool = True, judge_zombies: bool = True) -> RepairStats:
    """One repair pass. ``judge_nodes``/``judge_zombies`` are False while this scheduler has
    not itself seen the database for ``node_timeout``/``zombie_threshold``: heartbeats that
    stopped while the database was unreachable are no evidence that anyone died."""
    stats = RepairStats()
    if judge_nodes:
        dead = declare_dead(session, timeout=settings.scheduler.node_timeout, now=now)
        stats.dead_nodes = len(dead)
        if dead:
            log.warning("nodes %s stopped heartbeating; adopting their queued work", ", ".join(dead))
    # Level-triggered: the queued work of any node not alive now, however it got there (a node
    # declared dead in an earlier pass whose adoption was rolled back, or one that went away).
    orphans = session.execute(dialect.skip_locked(
        sa.select(TaskInstance).where(TaskInstance.state == S.QUEUED.value,
                                      TaskInstance.queued_by.not_in(live_node_ids()))
    )).scalars().all()
    stats.requeued += transition_tis(session, [_key(t) for t in orphans], S.QUEUED, S.SCHEDULED, now=now)
    _expire_queued(session, dialect, cache, settings, now, stats)
    complete_finished_backfills(session, now)
    if judge_zombies:
        _reap_zombies(session, dialect, cache, settings, now, stats)
    return stats


def _expire_queued(session: Session, dialect: BaseDialect, cache: DagDataCache, settings: Settings,
                   now: datetime, stats: RepairStats) -> None:
    """Tries queued past queued_timeout: re-queued ``max_queued_requeues`` times, then failed."""
    cfg = settings.scheduler
    stuck = session.execute(dialect.skip_locked(
        sa.select(TaskInstance).where(
            TaskInstance.state == S.QUEUED.value,
            TaskInstance.queued_at < now - timedelta(seconds=cfg.queued_timeout))
    )).scalars().all()
    dags = cache.get_many(session, {t.dag_id for t in stuck})
    for t in stuck:
        key = _key(t)
        if t.queued_requeues < cfg.max_queued_requeues:
            stats.requeued += transition_tis(session, [key], S.QUEUED, S.SCHEDULED, now=now,
                                             values={"queued_requeues": t.queued_requeues + 1})
            continue
        reason = (f"queued for more than {cfg.queued_timeout:g} s {t.queued_requeues + 1} times without "
                  "a worker starting it (no worker for its queue, or the executor lost it)")
        task = dags[t.dag_id].tasks.get(t.task_id, {}) if t.dag_id in dags else {}
        # It counts as a failed try (as in Airflow), so retries apply and the next one is new.
        final = transition_ti(session, key, S.QUEUED, S.FAILED, try_number=t.try_number,
                              values={"failure_reason": reason, "queued_requeues": 0, "try_number": t.try_number + 1},
                              retry=RetryParams.from_task_data(task), now=now)
        if final is not None:
            stats.failed_queued += 1
            log.warning("%s/%s/%s: %s -> %s", t.dag_id, t.run_id, t.task_id, reason, final)


def _reap_zombies(session: Session, dialect: BaseDialect, cache: DagDataCache, settings: Settings,
                  now: datetime, stats: RepairStats) -> None:
    zombies = session.execute(dialect.skip_locked(
        sa.select(TaskInstance).where(
            TaskInstance.state == S.RUNNING.value,
            TaskInstance.last_heartbeat < now - timedelta(seconds=settings.scheduler.zombie_threshold))
    )).scalars().all()
    dags = cache.get_many(session, {z.dag_id for z in zombies})
    for z in zombies:
        silent = (now - z.last_heartbeat).total_seconds() if z.last_heartbeat else 0
        reason = f"zombie: the try's heartbeat stopped {silent:.0f} s ago (runner on {z.hostname} pid {z.pid} died?)"
        task = dags[z.dag_id].tasks.get(z.task_id, {}) if z.dag_id in dags else {}
        final = transition_ti(session, _key(z), S.RUNNING, S.FAILED, try_number=z.try_number,
                              values={"failure_reason": reason}, retry=RetryParams.from_task_data(task), now=now)
        if final is not None:
            close_try_record(session, _key(z), z.try_number, final, now)
            stats.zombies += 1
            log.warning("%s/%s/%s try %s: %s -> %s", z.dag_id, z.run_id, z.task_id, z.try_number, reason, final)
            append_line(settings.log_folder, _key(z), z.try_number, reason)
