"""A Celery worker's metrics: tries its pool processes ran count on the worker's own endpoint.

A scheduler and a worker (two pool processes) on PostgreSQL and Redis run a DAG whose one task
fails; the worker's endpoint, found through its node row, counts exactly the successes and
failures the database holds, and its heartbeat carries its load.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from tandem.db.session import session_scope
from tandem.models import TaskInstance
from tests.fixtures.processes import Processes, wait_for
from tests.integration.celery.support import Broker, Cluster, isolated_broker, logs_of, write_dag

__all__ = ["isolated_broker"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(240)]
RUNS = 2
DAG = """
from datetime import datetime

from tandem import DAG, task

with DAG("counted", schedule=None, start_date=datetime(2024, 1, 1), default_args={"retries": 0}) as dag:
    @task
    def first():
        return 1

    @task
    def second(x):
        return x + 1

    @task
    def broken():
        raise ValueError("on purpose")

    second(first())
    broken()
"""


def counters(url: str) -> dict[str, float]:
    text = httpx.get(url, timeout=10).raise_for_status().text
    return {s.name + str(sorted(s.labels.items())): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def summed(samples: dict[str, float], name: str) -> float:
    return sum(v for k, v in samples.items() if k.startswith(name + "["))


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("isolated_broker", ["redis"], indirect=True)
def test_worker_endpoint_counts_what_its_pool_processes_recorded(
    isolated_broker: Broker, engine: Engine, dags_folder: Path, processes: Processes
) -> None:
    # Given a scheduler and a worker running a DAG with one failing task, twice
    write_dag(dags_folder, "counted", DAG)
    cluster = Cluster(processes, engine, isolated_broker)
    scheduler = cluster.scheduler()
    worker = cluster.worker("metrics-worker", concurrency=2)
    cluster.wait_for_dag("counted")
    run_ids = cluster.trigger("counted", RUNS)
    states = cluster.wait_for_runs("counted", run_ids, timeout=120)
    assert set(states.values()) == {"failed"}, logs_of(scheduler) + logs_of(worker)

    # When the worker's endpoint, recorded in its node row, is scraped
    node = cluster.worker_node("metrics-worker")
    assert node is not None
    url = node.details["metrics_url"]
    port = url.rsplit(":", 1)[1].split("/")[0]
    with session_scope(engine) as session:
        by_state = dict(session.execute(sa.select(TaskInstance.state, sa.func.count())
                                        .where(TaskInstance.dag_id == "counted").group_by(TaskInstance.state)).all())
    assert by_state == {"success": 2 * RUNS, "failed": RUNS}

    # Then it counts every try its pool processes recorded, as the database does
    samples = wait_for(lambda: (lambda s: s if summed(s, "tandem_ti_finish_total") >= 3 * RUNS else None)(
        counters(f"http://127.0.0.1:{port}/metrics")), timeout=20, interval=0.3, message="the worker's counters")
    assert isinstance(samples, dict)
    assert summed(samples, "tandem_ti_successes_total") == by_state["success"]
    assert summed(samples, "tandem_ti_failures_total") == by_state["failed"]
    assert samples["tandem_ti_finish_total[('dag_id', 'counted'), ('state', 'failed'), ('task_id', 'broken')]"] == RUNS
    assert summed(samples, "tandem_node_info") == 1
    assert samples["tandem_executor_open_slots[]"] == 2  # measured at the scrape: idle, its whole concurrency
    # And its heartbeats carry its load for the dashboard (the first beat after the runs says idle)
    idle = {"running": 0, "queued": 0, "open_slots": 2, "passes_per_s": None}
    wait_for(lambda: (cluster.worker_node("metrics-worker") or node).details["load"] == idle,
             timeout=15, interval=0.3, message="a heartbeat with the idle worker's load")
