"""Two schedulers and two Celery workers (queues ``default`` and ``heavy``) on PostgreSQL run
many DAG runs of a mixed DAG, on Redis and on RabbitMQ: every try lands on a worker of its
queue, runs once, and succeeds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine

from tandem.db.session import session_scope
from tandem.models import TaskTry
from tests.fixtures.processes import Processes
from tests.integration.celery.support import Broker, Cluster, isolated_broker, logs_of, write_dag

__all__ = ["isolated_broker"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(420)]

RUNS = 50

MIXED_DAG = """
from datetime import datetime

from tandem import DAG, task
from tandem.operators import BashOperator

with DAG("mixed", schedule=None, start_date=datetime(2024, 1, 1), max_active_runs=25,
         max_active_tasks=64) as dag:
    @task
    def extract():
        return [1, 2, 3]

    @task(queue="heavy")
    def crunch(x):
        return x * x

    @task
    def load(values):
        assert sorted(values) == [1, 4, 9], values
        return sum(values)

    shell = BashOperator(task_id="shell", bash_command="echo shell ran")
    data = extract()
    data >> shell
    total = load(crunch.expand(x=data))
    shell >> total
"""
HEAVY_TASKS = {"crunch"}
TIS_PER_RUN = 6  # extract, shell, load, and crunch mapped over three values


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("isolated_broker", ["redis", "rabbitmq"], indirect=True)
def test_two_schedulers_two_workers_route_by_queue(
    isolated_broker: Broker, engine: Engine, dags_folder: Path, processes: Processes
) -> None:
    # Given two schedulers and a worker per queue
    write_dag(dags_folder, "mixed", MIXED_DAG)
    cluster = Cluster(processes, engine, isolated_broker)
    schedulers = [cluster.scheduler(), cluster.scheduler()]
    workers = {
        "default": cluster.worker("worker-default", "default", concurrency=3),
        "heavy": cluster.worker("worker-heavy", "heavy", concurrency=2),
    }
    cluster.wait_for_dag("mixed")

    # When 50 runs are triggered
    run_ids = cluster.trigger("mixed", RUNS)
    states = cluster.wait_for_runs("mixed", run_ids, timeout=300)

    # Then every run succeeded
    logs = "\n".join(logs_of(p) for p in [*schedulers, *workers.values()])
    assert Counter(states[r] for r in run_ids) == {"success": RUNS}, logs
    # ... every try ran on a worker of its task's queue, under that worker's node id
    nodes = {queue: cluster.worker_node(f"worker-{queue}") for queue in workers}
    tis = [ti for ti in cluster.task_instances("mixed") if ti.state != "removed"]  # mapped placeholders
    assert len(tis) == RUNS * TIS_PER_RUN, Counter((ti.task_id, ti.map_index, ti.state) for ti in tis)
    for ti in tis:
        queue = "heavy" if ti.task_id in HEAVY_TASKS else "default"
        node = nodes[queue]
        assert node is not None
        assert (ti.state, ti.hostname, ti.node_id, ti.try_number) == (
            "success",
            f"worker-{queue}",
            node.id,
            1,
        ), ti
    # ... exactly once: one claimed try per task instance
    with session_scope(engine) as session:
        tries = session.execute(sa.select(TaskTry.state, TaskTry.try_number)).all()
    assert Counter(tries) == {("success", 1): RUNS * TIS_PER_RUN}
    # ... and the workers report their queues to the cluster registry
    assert nodes["default"] is not None and nodes["default"].details["queues"] == ["default"]
    assert nodes["heavy"] is not None and nodes["heavy"].details["queues"] == ["heavy"]

    # When a worker with another fernet key tries to join, it is refused, naming the key
    other_key = Fernet.generate_key().decode()
    stranger = cluster.start(
        "worker", "--hostname", "stranger", name="stranger", env={"TANDEM__CORE__FERNET_KEY": other_key}
    )
    assert stranger.wait(60) == 1
    assert "core.fernet_key" in logs_of(stranger) and other_key not in logs_of(stranger)
    assert cluster.worker_node("stranger") is None

    # When the workers stop cleanly, their nodes are marked stopped
    for proc in workers.values():
        assert processes.stop(proc) == 0
    for hostname in ("worker-default", "worker-heavy"):
        assert cluster.worker_node(hostname) is None
