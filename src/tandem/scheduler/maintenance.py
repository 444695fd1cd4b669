"""Periodic repairs: zombies, tries stuck in queued, and work of dead schedulers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.cluster.nodes import declare_dead
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
    dead_nodes: int = 0


def _key(row: TaskInstance) -> TiKey:
    return TiKey(row.dag_id, row.run_id, row.task_id, row.map_index)


def repair(session: Session, dialect: BaseDialect, cache: DagDataCache, settings: Settings,
           now: datetime) -> RepairStats:
    stats = RepairStats()
    dead = declare_dead(session, timeout=settings.scheduler.node_timeout, now=now)
    stats.dead_nodes = len(dead)
    if dead:
        log.warning("nodes %s stopped heartbeating; adopting their queued work", ", ".join(dead))
        orphans = session.execute(dialect.skip_locked(
            sa.select(TaskInstance).where(TaskInstance.state == S.QUEUED.value, TaskInstance.queued_by.in_(dead))
        )).scalars().all()
        stats.requeued += transition_tis(session, [_key(t) for t in orphans], S.QUEUED, S.SCHEDULED, now=now)
    stuck = session.execute(dialect.skip_locked(
        sa.select(TaskInstance).where(
            TaskInstance.state == S.QUEUED.value,
            TaskInstance.queued_at < now - timedelta(seconds=settings.scheduler.queued_timeout))
    )).scalars().all()
    stats.requeued += transition_tis(session, [_key(t) for t in stuck], S.QUEUED, S.SCHEDULED, now=now)
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
    return stats
