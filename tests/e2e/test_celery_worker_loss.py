"""Worker loss and duplicate delivery on the Celery executor.

- A worker ``kill -9``ed in the middle of a long try takes the try with it; the try's heartbeat
  stops, a scheduler reaps it as a zombie and the retry runs on the other worker. The two tries
  never run at the same time.
- A message delivered again after its try ran is refused by the claim: the task's code runs once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import get_settings
from tandem.db.session import session_scope
from tandem.executors.base import ExecutorStart
from tandem.executors.celery.executor import CeleryExecutor
from tandem.executors.workload import Event, Workload
from tandem.models import TaskTry
from tandem.orchestration import TiKey
from tandem.runner.logs import try_log_path
from tests.fixtures.processes import Processes, wait_for
from tests.integration.celery.support import Broker, Cluster, isolated_broker, logs_of, write_dag

__all__ = ["isolated_broker"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(240)]

LONG_DAG = """
import os
import time
from datetime import datetime, timedelta

from tandem import DAG, task

TICKS = {ticks!r}

with DAG("long", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task(retries=1, retry_delay=timedelta(seconds=0))
    def long_try(ti=None):
        for _ in range(30):
            with open(TICKS, "a") as f:
                f.write(f"{{ti.try_number}} {{os.getpid()}} {{time.time()}}\\n")
            time.sleep(0.2)

    long_try()
"""

ONCE_DAG = """
from datetime import datetime

from tandem import DAG, task

SIDE = {side!r}

with DAG("once", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task
    def append():
        with open(SIDE, "a") as f:
            f.write("ran\\n")

    append()
"""


def read_ticks(path: Path) -> list[tuple[int, int, float]]:
    if not path.exists():
        return []
    ticks = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            ticks.append((int(parts[0]), int(parts[1]), float(parts[2])))
    return ticks


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("isolated_broker", ["redis"], indirect=True)
def test_worker_killed_mid_try_is_retried_on_the_other_worker(
    isolated_broker: Broker, engine: Engine, dags_folder: Path, tmp_path: Path, processes: Processes
) -> None:
    # Given a scheduler, two workers on the same queue, and a long try running on one of them
    ticks = tmp_path / "ticks.txt"
    write_dag(dags_folder, "long", LONG_DAG.format(ticks=str(ticks)))
    cluster = Cluster(processes, engine, isolated_broker)
    scheduler = cluster.scheduler()
    workers = {name: cluster.worker(name, "default", concurrency=1) for name in ("worker-a", "worker-b")}
    cluster.wait_for_dag("long")
    [run_id] = cluster.trigger("long")
    wait_for(lambda: len(read_ticks(ticks)) >= 3, 60, message="the first try to start ticking")
    [ti] = cluster.task_instances("long")
    victim, survivor = ti.hostname, ({"worker-a", "worker-b"} - {ti.hostname}).pop()
    first_pid = read_ticks(ticks)[0][1]
    # (the cluster registry shows which worker runs it)
    wait_for(
        lambda: (n := cluster.worker_node(victim)) is not None and n.details["running"] == 1,
        10,
        message="the worker's node to report one running try",
    )

    # When that worker is killed -9 (its main process only, as a crash would)
    processes.kill9(workers[victim])

    # Then the try dies with it at once
    wait_for(lambda: not pid_alive(first_pid), 10, message="the try's process to die with its worker")
    # ... and the run succeeds through a retry on the other worker
    states = cluster.wait_for_runs("long", [run_id], timeout=120)
    logs = "\n".join(logs_of(p) for p in [scheduler, *workers.values()])
    assert states[run_id] == "success", logs
    [ti] = cluster.task_instances("long")
    assert (ti.state, ti.try_number, ti.hostname) == ("success", 2, survivor)
    with session_scope(engine) as session:
        tries = session.execute(
            sa.select(TaskTry.try_number, TaskTry.hostname).order_by(TaskTry.try_number)
        ).all()
    assert [tuple(t) for t in tries] == [(1, victim), (2, survivor)]
    # ... and the two tries never ran at the same time
    recorded = read_ticks(ticks)
    first = [t for n, _, t in recorded if n == 1]
    second = [t for n, _, t in recorded if n == 2]
    assert len(second) == 30 and 3 <= len(first) < 30
    assert max(first) < min(second)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("isolated_broker", ["redis", "rabbitmq"], indirect=True)
def test_message_delivered_again_never_runs_the_try_twice(
    isolated_broker: Broker, engine: Engine, dags_folder: Path, tmp_path: Path, processes: Processes
) -> None:
    # Given a try that ran and succeeded
    side = tmp_path / "side.txt"
    write_dag(dags_folder, "once", ONCE_DAG.format(side=str(side)))
    cluster = Cluster(processes, engine, isolated_broker)
    cluster.scheduler()
    cluster.worker("worker-a", "default", concurrency=2)
    cluster.wait_for_dag("once")
    [run_id] = cluster.trigger("once")
    assert cluster.wait_for_runs("once", [run_id], timeout=60)[run_id] == "success"
    [ti] = cluster.task_instances("once")

    # When its message is delivered twice more
    settings = get_settings()
    executor = CeleryExecutor()
    executor.start(ExecutorStart(settings=settings, node_id="test-duplicates", parallelism=4))
    try:
        duplicate = Workload(dag_id="once", run_id=run_id, task_id="append", map_index=-1, try_number=1)
        executor.submit([duplicate, duplicate])
        # Then both deliveries are refused by the claim, and reported as such
        events: list[Event] = []
        deadline = time.monotonic() + 30
        while len(events) < 2 and time.monotonic() < deadline:
            events += executor.poll(1.0)
    finally:
        executor.shutdown()
    assert [(e.workload, e.kind, e.detail) for e in events] == [(duplicate, "finished", "not claimed")] * 2
    log = try_log_path(settings.log_folder, TiKey(ti.dag_id, ti.run_id, ti.task_id, ti.map_index), 1)
    assert log.read_text().count("was not claimed") == 2
    # ... and the task's code ran once
    assert side.read_text() == "ran\n"
    with session_scope(engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(TaskTry)).scalar_one() == 1
