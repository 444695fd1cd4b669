"""Logs from any server: a try's log is read by another process (this test) from the worker's
log server while the try runs, tail included; once the try ends, from remote storage, which
outlives the worker."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tandem.config import get_settings, reset_settings
from tandem.logs.reader import LogChunk, read_try_log
from tandem.logs.server import log_url_path
from tandem.logs.token import sign_log_request
from tandem.orchestration import TiKey
from tests.fixtures.processes import Processes, wait_for
from tests.integration.celery.support import Broker, Cluster, isolated_broker, logs_of, write_dag

__all__ = ["isolated_broker"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(180)]

TALKY_DAG = """
import time
from datetime import datetime

from tandem import DAG, task

with DAG("talky", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task
    def talk():
        for i in range(25):
            print(f"tick {i}", flush=True)
            time.sleep(0.2)

    talk()
"""


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("isolated_broker", ["redis"], indirect=True)
def test_log_is_read_from_the_worker_while_the_try_runs_then_from_remote_storage(
    isolated_broker: Broker,
    engine: Engine,
    dags_folder: Path,
    tmp_path: Path,
    processes: Processes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a worker that keeps its logs in its own folder, and remote log storage
    monkeypatch.setenv("TANDEM__LOGGING__REMOTE_BASE_LOG_FOLDER", f"file://{tmp_path / 'remote-logs'}")
    reset_settings()
    write_dag(dags_folder, "talky", TALKY_DAG)
    cluster = Cluster(processes, engine, isolated_broker)
    cluster.scheduler()
    worker = cluster.worker(
        "worker-a", "default", TANDEM__LOGGING__BASE_LOG_FOLDER=str(tmp_path / "worker-logs")
    )
    cluster.wait_for_dag("talky")
    settings = get_settings()
    assert settings.log_folder != tmp_path / "worker-logs"  # so this process has no local copy

    # When the try runs
    [run_id] = cluster.trigger("talky")
    key = TiKey("talky", run_id, "talk")

    def running_log() -> LogChunk | None:
        chunk = read_try_log(settings, key, 1)
        return chunk if chunk.found and "tick 3" in chunk.text else None

    # Then its log so far comes from the worker's log server
    chunk = wait_for(running_log, 60, message="the running try's log from the worker")
    assert isinstance(chunk, LogChunk)
    assert chunk.source.endswith("(worker)") and "Running talky/" in chunk.text
    [ti] = cluster.task_instances("talky")
    assert ti.state == "running"
    # ... and a tail from its offset brings only the new lines
    tail = wait_for(
        lambda: (c := read_try_log(settings, key, 1, chunk.next_offset)).text and c,
        30,
        message="new lines in the tail",
    )
    assert isinstance(tail, LogChunk)
    assert "tick 0" not in tail.text and tail.next_offset > chunk.next_offset

    # ... and the log server refuses requests without a valid token for that very try
    node = cluster.worker_node("worker-a")
    assert node is not None
    url = node.details["log_server_url"] + log_url_path(key, 1)
    for headers in (
        {},
        {"Authorization": "Bearer forged"},
        {"Authorization": f"Bearer {sign_log_request(settings.api.secret_key, key, 2)}"},
        {"Authorization": f"Bearer {sign_log_request('another-secret', key, 1)}"},
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5)
        assert refused.value.code == 403
        refused.value.close()

    # When the try has ended
    assert cluster.wait_for_runs("talky", [run_id], timeout=60)[run_id] == "success", logs_of(worker)

    # Then the whole log comes from remote storage, even once the worker is gone
    processes.stop(worker)
    final = read_try_log(settings, key, 1)
    assert final.found and final.source.endswith("(remote)"), final
    assert "tick 24" in final.text and "Marked as success" in final.text


TWO_QUEUES_DAG = """
from datetime import datetime

from tandem import DAG, task

with DAG("two_queues", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task(queue="qa")
    def on_a():
        print("hello from a")

    @task(queue="qb")
    def on_b():
        print("hello from b")

    on_a()
    on_b()
"""


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("isolated_broker", ["redis"], indirect=True)
def test_two_workers_on_one_host_both_serve_their_logs(
    isolated_broker: Broker, engine: Engine, dags_folder: Path, tmp_path: Path, processes: Processes
) -> None:
    # Given two workers on one host with the same config: the same log server port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    write_dag(dags_folder, "two_queues", TWO_QUEUES_DAG)
    cluster = Cluster(processes, engine, isolated_broker, {"TANDEM__LOGGING__WORKER_LOG_SERVER_PORT": port})
    cluster.scheduler()
    workers = {
        name: cluster.worker(name, queue, TANDEM__LOGGING__BASE_LOG_FOLDER=str(tmp_path / f"logs-{name}"))
        for name, queue in (("worker-a", "qa"), ("worker-b", "qb"))
    }
    cluster.wait_for_dag("two_queues")

    # When each runs one try
    [run_id] = cluster.trigger("two_queues")
    assert cluster.wait_for_runs("two_queues", [run_id], timeout=90)[run_id] == "success", [
        logs_of(w) for w in workers.values()]

    # Then both started, one on the configured port and one on a free port each registered,
    # and each try's log is read from the worker that ran it
    nodes = [cluster.worker_node(name) for name in workers]
    ports = {node.details["log_server_port"] for node in nodes if node is not None}
    assert len(ports) == 2 and int(port) in ports
    settings = get_settings()
    for task_id, text in (("on_a", "hello from a"), ("on_b", "hello from b")):
        chunk = read_try_log(settings, TiKey("two_queues", run_id, task_id), 1)
        assert chunk.found and chunk.source.endswith("(worker)") and text in chunk.text, chunk
