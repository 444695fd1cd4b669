"""The scheduler as a long-running service: node registration, executor, embedded DAG processor."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cluster.nodes import DEAD, RUNNING, join_cluster, live_nodes, stop_node
from tandem.config import Settings
from tandem.db.dialects import dialect_for
from tandem.db.session import session_scope
from tandem.executors.base import ExecutorStart
from tandem.executors.loader import load_executor_class
from tandem.models import Node
from tandem.observability import exporter
from tandem.scheduler.loop import Scheduler

log = logging.getLogger(__name__)

SCHEDULER_ROLES = ("scheduler", "standalone")


class SchedulerRefused(RuntimeError):
    """This scheduler must not start (another one owns a single-node database)."""


def check_single_node(settings: Settings, engine: Engine) -> None:
    """SQLite is one node (ARCHITECTURE.md, invariant 8): refuse a second scheduler.

    A scheduler whose process still exists counts, however late its heartbeat: one paused
    (SIGSTOP, a frozen VM) past node_timeout comes back and carries on.
    """
    if dialect_for(engine.url.render_as_string(hide_password=False)).supports_multiple_schedulers:
        return
    with session_scope(engine) as session:
        rows = session.execute(
            sa.select(Node).where(Node.role.in_(SCHEDULER_ROLES), Node.state.in_((RUNNING, DEAD)))
        ).scalars().all()
        live = {n.id for n in live_nodes(session, timeout=settings.scheduler.node_timeout)}
    peers = [n for n in rows if _still_running(n) or (n.id in live and n.hostname != socket.gethostname())]
    if peers:
        p = peers[0]
        raise SchedulerRefused(
            f"a scheduler is already running against this SQLite database ({p.role} pid {p.pid} on {p.hostname}); "
            "SQLite supports one scheduler. To run several schedulers, point every node at a PostgreSQL or "
            "MySQL/MariaDB database (database.url)."
        )


def _still_running(node: Node) -> bool:
    """The node's process exists on this machine (and is not a later process reusing its pid)."""
    import psutil

    if node.hostname != socket.gethostname():
        return False
    try:
        started = psutil.Process(node.pid).create_time()
    except psutil.NoSuchProcess:
        return False
    return started <= node.started_at.timestamp() + 1.0


def start_dag_processor() -> mp.process.BaseProcess:
    from tandem.dag_processing.processor import run_dag_processor

    process = mp.get_context("fork").Process(target=run_dag_processor, name="tandem-dag-processor", daemon=True)
    process.start()
    return process


def install_stop_handlers(stop: threading.Event) -> None:
    def _handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)


def run_scheduler(settings: Settings, engine: Engine, stop: threading.Event, *, role: str = "scheduler",
                  embedded_processor: bool = True, force: bool = False,
                  on_started: Callable[[str], None] | None = None) -> None:
    """Run until ``stop`` is set; leaves no process behind.

    Raises SchedulerRefused (SQLite already has a scheduler) or ConfigMismatch (this node's
    config differs from the cluster's and ``force`` is not set) before starting anything.
    """
    check_single_node(settings, engine)
    executor = load_executor_class(settings.core.executor)()
    metrics = exporter.start(settings, role)  # before the forks below: their counts reach this endpoint
    with session_scope(engine) as session:
        node_id = join_cluster(session, role, settings, force=force, details={
            "executor": settings.core.executor, "metrics_url": metrics.url if metrics else ""})
    if metrics is not None:
        metrics.set_node(node_id)
    processor = start_dag_processor() if embedded_processor else None
    executor.start(ExecutorStart(settings=settings, node_id=node_id, parallelism=settings.core.parallelism))
    log.info("%s %s started (executor %s, pid %s)", role, node_id, executor.name, os.getpid())
    try:
        if on_started is not None:
            on_started(node_id)  # after the forks above: threads it starts are not copied into them
        Scheduler(settings, executor, engine=engine, node_id=node_id).run_forever(stop)
    finally:
        executor.shutdown(wait=False)
        if processor is not None:
            processor.terminate()
            processor.join(10)
            if processor.is_alive():
                processor.kill()
        with session_scope(engine) as session:
            stop_node(session, node_id)
        log.info("%s %s stopped", role, node_id)
