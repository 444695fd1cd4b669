"""Flower runs against Tandem's Celery app unchanged (``tandem flower``) and its API lists
Tandem's tries."""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.fixtures.processes import Processes, wait_for
from tests.integration.celery.support import Broker, Cluster, isolated_broker, logs_of, write_dag

__all__ = ["isolated_broker"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(180)]

HELLO_DAG = """
from datetime import datetime

from tandem import DAG, task

with DAG("hello", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task
    def say():
        return "hello"

    @task
    def shout(word):
        return word.upper()

    shout(say())
"""
AUTH = "admin:flower-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> Any:
    token = base64.b64encode(AUTH.encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("isolated_broker", ["redis"], indirect=True)
def test_flower_api_lists_tandem_tries(
    isolated_broker: Broker, engine: Engine, dags_folder: Path, processes: Processes
) -> None:
    # Given Flower, a scheduler and a worker
    write_dag(dags_folder, "hello", HELLO_DAG)
    cluster = Cluster(processes, engine, isolated_broker)
    port = free_port()
    flower = cluster.start(
        "flower", f"--port={port}", "--address=127.0.0.1", f"--basic-auth={AUTH}", name="flower", env={}
    )
    base = f"http://127.0.0.1:{port}"

    def flower_up() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthcheck", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    wait_for(flower_up, 60, message=f"Flower to answer on {base}")
    cluster.scheduler()
    cluster.worker("worker-a", "default")
    cluster.wait_for_dag("hello")

    # When a DAG run goes through
    [run_id] = cluster.trigger("hello")
    assert cluster.wait_for_runs("hello", [run_id], timeout=60)[run_id] == "success"

    # Then Flower's API lists both tries, named after their tasks, with their workloads
    def tandem_tasks() -> list[dict[str, Any]] | None:
        tasks = [
            t
            for t in get_json(f"{base}/api/tasks").values()
            if run_id in str(t.get("args")) and t.get("state") == "SUCCESS"
        ]
        return tasks if len(tasks) == 2 else None

    tasks = wait_for(tandem_tasks, 30, message="Flower to list the tries")
    assert isinstance(tasks, list), logs_of(flower)
    assert sorted(t["name"] for t in tasks) == ["hello.say", "hello.shout"]
    assert {t["worker"] for t in tasks} == {"celery@worker-a"}
