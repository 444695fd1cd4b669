"""Versioned bundles across processes: runners with no DAG files of their own run every try from
the DB, a DAG file changed in the middle of a run does not change that run's code, and the next
run takes the new version.

The scheduler (with its DAG processor) has the DAG folder; the Celery worker, or the local
executor's supervisors under a scheduler whose DAG processor runs apart, have an empty one.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.dag_processing.bundles.listing import list_versions
from tandem.db.session import session_scope
from tandem.models import DagRun, SerializedDagModel, TaskTry, XCom, utcnow
from tests.fixtures.processes import Processes, wait_for
from tests.integration.celery.support import Broker, Cluster, isolated_broker, logs_of, write_dag

__all__ = ["isolated_broker"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(300)]

DAG = """
import os, time
from datetime import datetime
from tandem import DAG, task

with DAG("bundled", schedule=None, start_date=datetime(2024, 1, 1), max_active_runs=4):
    @task
    def before():
        return "{label}"

    @task
    def gate():
        # Holds the run until the test has changed the file (the gate file is the test's signal).
        deadline = time.monotonic() + 120
        while not os.path.exists({gate!r}) and time.monotonic() < deadline:
            time.sleep(0.1)

    @task
    def after():
        return "{label}"

    before() >> gate() >> after()
"""


def _source(label: str, gate: Path) -> str:
    return DAG.replace("{label}", label).replace("{gate!r}", repr(str(gate)))


def _latest(engine: Engine) -> str | None:
    with session_scope(engine) as session:
        return session.scalar(sa.select(SerializedDagModel.bundle_version).where(SerializedDagModel.dag_id == "bundled"))


def _xcoms(engine: Engine, run_id: str) -> dict[str, object]:
    with session_scope(engine) as session:
        return dict(session.execute(sa.select(XCom.task_id, XCom.value).where(XCom.run_id == run_id)).all())


def _change_mid_run(cluster: Cluster, engine: Engine, dags_folder: Path, tmp_path: Path) -> float:
    """Run 1 starts on v1; the file becomes v2 while run 1 waits at its gate; run 2 starts on v2.

    Returns the seconds from the file change to run 2's first try starting on a worker.
    """
    gate = tmp_path / "gate"
    write_dag(dags_folder, "bundled", _source("v1", gate))
    cluster.wait_for_dag("bundled")
    v1 = _latest(engine)
    [first] = cluster.trigger("bundled")
    wait_for(lambda: _xcoms(engine, first).get("before") == "v1", 90, message="run 1's first task")

    # When the file changes while run 1 is in the middle
    changed_at = utcnow()
    write_dag(dags_folder, "bundled", _source("v2", gate))
    wait_for(lambda: _latest(engine) not in (None, v1), 60, interval=0.05, message="version 2 to be parsed")
    [second] = cluster.trigger("bundled")
    wait_for(lambda: _xcoms(engine, second).get("before") == "v2", 90, interval=0.05, message="run 2's first task")
    with session_scope(engine) as session:
        started = session.scalar(sa.select(TaskTry.start_date).where(TaskTry.run_id == second,
                                                                      TaskTry.task_id == "before"))
    assert started is not None
    gate.write_text("go")

    # Then run 1 finishes on v1 and run 2 on v2, both versions recorded and listed
    states = cluster.wait_for_runs("bundled", [first, second], timeout=120)
    assert (states[first], states[second]) == ("success", "success")
    assert _xcoms(engine, first) == {"before": "v1", "after": "v1"}
    assert _xcoms(engine, second) == {"before": "v2", "after": "v2"}
    with session_scope(engine) as session:
        versions = dict(session.execute(sa.select(DagRun.run_id, DagRun.bundle_version)).all())
        listed = {v["version"] for v in list_versions(session, "dags-folder")}
    assert versions[first] == v1 and versions[second] == _latest(engine) != v1
    assert {versions[first], versions[second]} <= listed
    return (started - changed_at).total_seconds()


@pytest.mark.redis
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("isolated_broker", ["redis"], indirect=True)
def test_celery_worker_without_dag_files(
    isolated_broker: Broker, engine: Engine, dags_folder: Path, processes: Processes, tmp_path: Path
) -> None:
    # Given a scheduler with the DAG folder and a Celery worker with none (its own home, empty folder)
    empty, worker_home = tmp_path / "worker-dags", tmp_path / "worker-home"
    empty.mkdir()
    worker_home.mkdir()
    cluster = Cluster(processes, engine, isolated_broker)
    scheduler = cluster.scheduler()
    worker = cluster.worker("bundle-worker", "default", concurrency=3,
                            TANDEM_HOME=str(worker_home), TANDEM__CORE__DAGS_FOLDER=str(empty))

    seconds = _change_mid_run(cluster, engine, dags_folder, tmp_path)

    # Then the worker ran everything from its cache, never from a DAG folder
    assert not any(empty.iterdir()), logs_of(worker)
    assert len(list((worker_home / "bundle_cache" / "dags-folder").iterdir())) == 2, logs_of(scheduler)
    print(f"file change -> new version running on a Celery worker without DAG files: {seconds:.2f} s")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_local_executor_without_dag_files(
    engine: Engine, dags_folder: Path, processes: Processes, tmp_path: Path
) -> None:
    # Given a standalone DAG processor with the DAG folder, and a scheduler (local executor) without
    empty, scheduler_home = tmp_path / "scheduler-dags", tmp_path / "scheduler-home"
    empty.mkdir()
    scheduler_home.mkdir()
    cluster = Cluster(processes, engine, Broker("none", ""), env={"TANDEM__CORE__EXECUTOR": "local"})
    processes.start("dag-processor", name="dag-processor", env={**cluster.env})
    cluster.scheduler(TANDEM_HOME=str(scheduler_home), TANDEM__CORE__DAGS_FOLDER=str(empty),
                      TANDEM__SCHEDULER__STANDALONE_DAG_PROCESSOR="true")

    started = time.monotonic()
    seconds = _change_mid_run(cluster, engine, dags_folder, tmp_path)

    assert not any(empty.iterdir())
    assert len(list((scheduler_home / "bundle_cache" / "dags-folder").iterdir())) == 2
    print(f"file change -> new version running under the local executor without DAG files: {seconds:.2f} s "
          f"(test {time.monotonic() - started:.0f} s)")
