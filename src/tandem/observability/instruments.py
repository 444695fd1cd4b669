"""The metrics a node records, named as Airflow users know them (``tandem_`` + Airflow's name).

Every function here is a no-op until ``enable()`` ran (in a node's main process, before it
forks): tests, ``tandem tasks test`` and tools pay nothing. Recording is a counter increment or
a histogram observation; nothing here touches the database or the network.

Label cardinality: ``dag_id``/``task_id`` only on per-task counters and summaries (two series
per task and state, as Airflow's ``ti.finish.<dag_id>.<task_id>.<state>``); histograms with
buckets carry no per-DAG labels.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec

from prometheus_client import Counter, Gauge, Histogram, Summary

if TYPE_CHECKING:
    from tandem.scheduler.maintenance import RepairStats

log = logging.getLogger(__name__)
P = ParamSpec("P")

LOOP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SHORT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class Instruments:
    """Every instrument, made once per process by ``enable()`` (never registered in the default
    registry: in multiprocess mode the exporter reads them from their files)."""

    def __init__(self) -> None:
        r: Any = None  # no registry: collected from the multiprocess files
        self.scheduler_loop_duration = Histogram(
            "tandem_scheduler_loop_duration_seconds", "Duration of one scheduler pass (Airflow: "
            "scheduler.scheduler_loop_duration)", buckets=LOOP_BUCKETS, registry=r)
        self.scheduler_heartbeat = Counter(
            "tandem_scheduler_heartbeat", "Scheduler heartbeats (Airflow: scheduler_heartbeat)", registry=r)
        self.critical_section_duration = Histogram(
            "tandem_scheduler_critical_section_duration_seconds", "Time the queuing lock was held (Airflow: "
            "scheduler.critical_section_duration)", buckets=SHORT_BUCKETS, registry=r)
        self.critical_section_busy = Counter(
            "tandem_scheduler_critical_section_busy", "Passes that skipped queuing because a peer held the lock "
            "(Airflow: scheduler.critical_section_busy)", registry=r)
        self.tasks_queued = Counter(
            "tandem_scheduler_tasks_queued", "Task instances this scheduler queued to its executor "
            "(Airflow: scheduler.tasks.executable)", registry=r)
        self.zombies_killed = Counter(
            "tandem_zombies_killed", "Running tries whose heartbeat stopped, failed or retried (Airflow: "
            "zombies_killed)", registry=r)
        self.orphaned_adopted = Counter(
            "tandem_scheduler_orphaned_tasks_adopted", "Queued tries of dead nodes taken back (Airflow: "
            "scheduler.orphaned_tasks.adopted)", registry=r)
        self.nodes_declared_dead = Counter(
            "tandem_scheduler_nodes_declared_dead", "Peers this scheduler declared dead (silent past "
            "node_timeout)", registry=r)
        self.db_errors = Counter(
            "tandem_db_errors", "Database errors a loop survived, by component", ["component"], registry=r)
        self.ti_finish = Counter(
            "tandem_ti_finish", "Tries recorded by this node's runners, by final state (Airflow: "
            "ti.finish.<dag_id>.<task_id>.<state>)", ["dag_id", "task_id", "state"], registry=r)
        self.ti_successes = Counter("tandem_ti_successes", "Tries that succeeded (Airflow: ti_successes)", registry=r)
        self.ti_failures = Counter("tandem_ti_failures", "Tries that failed (Airflow: ti_failures)", registry=r)
        self.task_duration = Summary(
            "tandem_task_duration_seconds", "Run time of recorded tries (Airflow: task.duration)",
            ["dag_id", "task_id"], registry=r)
        self.dagrun_duration = Summary(
            "tandem_dagrun_duration_seconds", "Duration of DAG runs this scheduler finished, by outcome "
            "(Airflow: dagrun.duration.<state>.<dag_id>)", ["dag_id", "state"], registry=r)
        self.dag_processing_last_duration = Gauge(
            "tandem_dag_processing_last_duration_seconds", "Seconds the last import of a DAG file took "
            "(Airflow: dag_processing.last_duration.<file>)", ["file"], multiprocess_mode="mostrecent",
            registry=r)
        self.dag_processing_import_errors = Gauge(
            "tandem_dag_processing_import_errors", "DAG files that failed to import at the last pass (Airflow: "
            "dag_processing.import_errors)", multiprocess_mode="mostrecent", registry=r)
        self.dag_processing_total_parse_time = Gauge(
            "tandem_dag_processing_total_parse_time_seconds", "Duration of the last DAG processing pass "
            "(Airflow: dag_processing.total_parse_time)", multiprocess_mode="mostrecent", registry=r)


_on: Instruments | None = None
#: Scheduler passes since this process started (plain int: the node's load reads it too).
passes = 0


def enable() -> Instruments:
    """Make the instruments (once); call after switching on multiprocess mode."""
    global _on
    if _on is None:
        _on = Instruments()
        # Known label values exist from the start, so alerts see 0 rather than nothing.
        _on.db_errors.labels("scheduler")
    return _on


def _never_fails(record: Callable[P, None]) -> Callable[P, None]:
    """Metrics are never worth a failed pass or a lost outcome: an error (its files removed
    under it, a full disk) is logged once per kind and the work carries on."""
    failed: set[str] = set()

    @functools.wraps(record)
    def safe(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            record(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - see above
            if type(e).__name__ not in failed:
                failed.add(type(e).__name__)
                log.warning("could not record metric %s: %s", record.__name__, e)

    return safe


@_never_fails
def scheduler_pass(started: float) -> None:
    """One scheduler pass ended; ``started`` is its ``time.perf_counter()`` at the start."""
    global passes
    passes += 1
    if _on is not None:
        _on.scheduler_loop_duration.observe(time.perf_counter() - started)


@_never_fails
def scheduler_heartbeat() -> None:
    if _on is not None:
        _on.scheduler_heartbeat.inc()


@_never_fails
def critical_section(seconds: float, queued: int) -> None:
    if _on is not None:
        _on.critical_section_duration.observe(seconds)
        if queued:
            _on.tasks_queued.inc(queued)


@_never_fails
def critical_section_busy() -> None:
    if _on is not None:
        _on.critical_section_busy.inc()


@_never_fails
def repaired(stats: RepairStats) -> None:
    if _on is not None and (stats.zombies or stats.requeued or stats.dead_nodes):
        _on.zombies_killed.inc(stats.zombies)
        _on.orphaned_adopted.inc(stats.requeued)
        _on.nodes_declared_dead.inc(stats.dead_nodes)


@_never_fails
def db_error(component: str) -> None:
    if _on is not None:
        _on.db_errors.labels(component).inc()


@_never_fails
def tries_finished(items: Sequence[tuple[Any, Any, Any]], finals: Sequence[Any]) -> None:
    """Outcomes just committed by a runner: (workload, claim, outcome) and the recorded state
    (None when a peer had taken the try over: not this node's outcome)."""
    if _on is None:
        return
    now = time.time()
    for (workload, claim, _outcome), final in zip(items, finals, strict=True):
        if final is None:
            continue
        state = str(final.value)
        _on.ti_finish.labels(workload.dag_id, workload.task_id, state).inc()
        if state == "success":
            _on.ti_successes.inc()
        elif state == "failed":
            _on.ti_failures.inc()
        started: datetime = claim.start_date
        _on.task_duration.labels(workload.dag_id, workload.task_id).observe(max(now - started.timestamp(), 0.0))


@_never_fails
def dag_run_finished(dag_id: str, state: str, start_date: datetime | None, end: datetime) -> None:
    if _on is not None:
        seconds = (end - start_date).total_seconds() if start_date is not None else 0.0
        _on.dagrun_duration.labels(dag_id, state).observe(max(seconds, 0.0))


@_never_fails
def file_parsed(fileloc: str, seconds: float) -> None:
    if _on is not None:
        _on.dag_processing_last_duration.labels(fileloc).set(seconds)


@_never_fails
def processing_pass(import_errors: int, seconds: float) -> None:
    if _on is not None:
        _on.dag_processing_import_errors.set(import_errors)
        _on.dag_processing_total_parse_time.set(seconds)
