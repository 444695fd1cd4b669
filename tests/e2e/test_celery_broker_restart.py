"""Redis restarted, without persistence, while DAG runs are in flight: every message it held is
lost, and still every run completes (re-sent when sending failed, re-queued after
``scheduler.queued_timeout`` when the message vanished; running tries carry on)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.fixtures.private_redis import PrivateRedis
from tests.fixtures.processes import Processes, wait_for
from tests.integration.celery.support import Broker, Cluster, logs_of, write_dag

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(300)]

RUNS = 8

STEPS_DAG = """
import time
from datetime import datetime

from tandem import DAG, task

with DAG("steps", schedule=None, start_date=datetime(2024, 1, 1), max_active_runs=8) as dag:
    @task
    def step(i: int):
        time.sleep(0.4)
        return i

    previous = None
    for i in range(6):
        current = step.override(task_id=f"s{i}")(i)
        if previous is not None:
            previous >> current
        previous = current
"""


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_runs_complete_across_a_redis_restart(
    private_redis: PrivateRedis, engine: Engine, dags_folder: Path, processes: Processes
) -> None:
    # Given a scheduler and two workers on a private Redis, and runs in flight
    write_dag(dags_folder, "steps", STEPS_DAG)
    cluster = Cluster(processes, engine, Broker("redis", private_redis.url))
    scheduler = cluster.scheduler()
    workers = [cluster.worker("worker-a", "default", concurrency=3), cluster.worker("worker-b", "default")]
    cluster.wait_for_dag("steps")
    run_ids = cluster.trigger("steps", RUNS)
    wait_for(
        lambda: sum(ti.state == "success" for ti in cluster.task_instances("steps")) >= 6,
        60,
        message="some tries to succeed before the restart",
    )

    # When Redis dies, losing every message it held, and comes back empty a moment later
    private_redis.stop()
    time.sleep(3)
    private_redis.start()

    # Then every run completes, and every try succeeded
    states = cluster.wait_for_runs("steps", run_ids, timeout=180)
    logs = "\n".join(logs_of(p) for p in [scheduler, *workers])
    assert Counter(states[r] for r in run_ids) == {"success": RUNS}, logs
    assert {ti.state for ti in cluster.task_instances("steps")} == {"success"}
