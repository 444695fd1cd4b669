"""One whole DAG run in this process, without a scheduler service (``tandem dags test``)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cluster.nodes import register_node, stop_node
from tandem.config import Settings
from tandem.db.session import session_scope
from tandem.executors.base import ExecutorStart
from tandem.executors.sequential import SequentialExecutor
from tandem.models import DagRun, TaskInstance, utcnow
from tandem.scheduler.dag_data import DagDataCache
from tandem.scheduler.dagruns import trigger_dag_run
from tandem.scheduler.loop import Scheduler
from tandem.state import RUN_TERMINAL


def run_dag_inprocess(engine: Engine, settings: Settings, dag_id: str, *, conf: dict[str, Any] | None = None,
                      logical_date: datetime | None = None, run_id: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Trigger a run and drive it to the end here; return its state and its task instances."""
    now = utcnow()
    with session_scope(engine) as session:
        node_id = register_node(session, "dags-test")
    executor = SequentialExecutor()
    executor.start(ExecutorStart(settings=settings, node_id=node_id, parallelism=1))
    cache = DagDataCache()
    try:
        with session_scope(engine) as session:
            run = trigger_dag_run(session, cache, dag_id, conf=conf, logical_date=logical_date or now,
                                  run_id=run_id or f"test__{now.isoformat()}", triggered_by="dags test")
            key = (run.dag_id, run.run_id)
        # Only this run: a live scheduler elsewhere keeps all other work.
        scheduler = Scheduler(settings, executor, engine=engine, node_id=node_id, only=key)
        while True:
            stats = scheduler.run_once()
            with session_scope(engine) as session:
                state = session.execute(sa.select(DagRun.state).where(
                    DagRun.dag_id == key[0], DagRun.run_id == key[1])).scalar_one()
            if state in RUN_TERMINAL:
                break
            if not stats.busy:
                _wait_or_give_up(engine, key)
    finally:
        with session_scope(engine) as session:
            stop_node(session, node_id)
    with session_scope(engine) as session:
        rows = session.execute(
            sa.select(TaskInstance).where(TaskInstance.dag_id == key[0], TaskInstance.run_id == key[1])
            .order_by(TaskInstance.start_date.is_(None), TaskInstance.start_date, TaskInstance.task_id,
                      TaskInstance.map_index)
        ).scalars().all()
        tis = [{"task_id": t.task_id, "map_index": t.map_index, "state": t.state, "try_number": t.try_number,
                "start_date": t.start_date, "end_date": t.end_date, "duration": t.duration} for t in rows]
    return state, tis


def _wait_or_give_up(engine: Engine, key: tuple[str, str]) -> None:
    """Nothing moved in the last pass: wait for a retry delay, or explain what is stuck."""
    with session_scope(engine) as session:
        rows = session.execute(sa.select(TaskInstance.task_id, TaskInstance.state, TaskInstance.pool).where(
            TaskInstance.dag_id == key[0], TaskInstance.run_id == key[1],
            TaskInstance.state.in_(["up_for_retry", "scheduled", "none"]))).all()
    if any(r.state == "up_for_retry" for r in rows):
        time.sleep(0.2)
        return
    stuck = ", ".join(f"{r.task_id} ({r.state}, pool {r.pool})" for r in rows) or "nothing runnable"
    raise RuntimeError(f"the run cannot make progress: {stuck}; is a pool missing or full?")
