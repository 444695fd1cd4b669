"""Helpers for Celery tests: an isolated broker namespace per test, and a cluster of
``tandem scheduler`` / ``tandem worker`` processes on one metadata DB.

Each test gets its own namespace on the shared servers, so tests (and other people's runs)
never consume each other's messages: a Redis key prefix (kombu's ``global_keyprefix``, which
also prefixes pub/sub channels), or a private RabbitMQ vhost when ``rabbitmqctl`` works here
(otherwise the default vhost).

The e2e tests import the fixtures from this module.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import reset_settings
from tandem.db.session import session_scope
from tandem.models import DagRun, Node, TaskInstance
from tandem.scheduler.dag_data import DagDataCache
from tandem.scheduler.dagruns import trigger_dag_run
from tests.fixtures.processes import Processes, wait_for
from tests.fixtures.services import RABBITMQ_URL, REDIS_URL, require_service

#: Short timings so that loss, zombies and re-queuing happen within a test's time.
FAST_SCHEDULER = {
    "TANDEM__SCHEDULER__HEARTBEAT_INTERVAL": "0.5",
    "TANDEM__SCHEDULER__NODE_TIMEOUT": "4",
    "TANDEM__SCHEDULER__ZOMBIE_THRESHOLD": "3",
    "TANDEM__SCHEDULER__QUEUED_TIMEOUT": "8",
    "TANDEM__SCHEDULER__POLL_INTERVAL": "0.5",
    "TANDEM__SCHEDULER__DAG_DIR_LIST_INTERVAL": "2",
    "TANDEM__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "1",
}
TERMINAL_RUN_STATES = ("success", "failed")


@dataclass
class Broker:
    """A broker namespace: the settings that point a node at it."""

    kind: str
    url: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {"TANDEM__CELERY__BROKER_URL": self.url, "TANDEM__CELERY__EXTRA": json.dumps(self.extra)}


def _rabbitmqctl(*args: str) -> bool:
    try:
        subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)
        return True
    except (OSError, subprocess.SubprocessError):
        return False


def drop_redis_namespace(broker: Broker) -> None:
    """Delete every key under the broker's prefix (queues, bindings) once a test is done."""
    import redis

    prefix = broker.extra.get("broker_transport_options", {}).get("global_keyprefix")
    if not prefix:
        return
    client = redis.Redis.from_url(broker.url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def redis_broker(url: str = REDIS_URL) -> Broker:
    prefix = f"tandem-test-{uuid.uuid4().hex[:10]}:"
    return Broker("redis", f"{url.rstrip('/')}/0", {"broker_transport_options": {"global_keyprefix": prefix}})


@pytest.fixture
def isolated_broker(
    request: pytest.FixtureRequest, tandem_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Broker]:
    """A private namespace on the broker named by the parameter ("redis" or "rabbitmq")."""
    kind = getattr(request, "param", "redis")
    require_service(kind)
    vhost = None
    if kind == "redis":
        broker = redis_broker()
    else:
        name = f"tandem_test_{uuid.uuid4().hex[:10]}"
        if _rabbitmqctl("add_vhost", name) and _rabbitmqctl(
            "set_permissions", "-p", name, "guest", ".*", ".*", ".*"
        ):
            vhost = name
        broker = Broker("rabbitmq", f"{RABBITMQ_URL.rstrip('/')}/{vhost or ''}")
    for key, value in broker.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TANDEM__CORE__EXECUTOR", "celery")
    reset_settings()
    try:
        yield broker
    finally:
        reset_settings()
        if vhost:
            _rabbitmqctl("delete_vhost", vhost)
        if kind == "redis":
            drop_redis_namespace(broker)


class Cluster:
    """``tandem`` processes of one test, on the test's DB, DAG folder and broker namespace."""

    def __init__(
        self, processes: Processes, engine: Engine, broker: Broker, env: dict[str, str] | None = None
    ) -> None:
        self.processes = processes
        self.engine = engine
        self.broker = broker
        self.env = {
            **FAST_SCHEDULER,
            **broker.env,
            "TANDEM__CORE__EXECUTOR": "celery",
            "TANDEM__LOGGING__WORKER_LOG_SERVER_PORT": "0",
            "TANDEM__LOGGING__WORKER_LOG_SERVER_ADDRESS": "127.0.0.1",
            **(env or {}),
        }
        self.cache = DagDataCache()

    def start(self, *args: str, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """``tandem ARGS...`` with this cluster's settings, cleaned up by the ``processes`` fixture."""
        return self.processes.start(*args, name=name, env={**self.env, **env})

    def scheduler(self, **env: str) -> subprocess.Popen[bytes]:
        return self.start("scheduler", name="scheduler", env=env)

    def worker(
        self, hostname: str, queues: str = "default", concurrency: int = 2, **env: str
    ) -> subprocess.Popen[bytes]:
        proc = self.start(
            "worker",
            "-q",
            queues,
            "-c",
            str(concurrency),
            "--hostname",
            hostname,
            name=f"worker-{hostname}",
            env=env,
        )
        log_path = proc.log_path  # type: ignore[attr-defined]
        wait_for(
            lambda: self.worker_node(hostname) is not None,
            60,
            message=f"worker {hostname} to register (log: {log_path})",
        )
        return proc

    def worker_node(self, hostname: str) -> Node | None:
        with session_scope(self.engine) as session:
            return (
                session.execute(
                    sa.select(Node).where(
                        Node.role == "worker", Node.hostname == hostname, Node.state == "running"
                    )
                )
                .scalars()
                .first()
            )

    def wait_for_dag(self, dag_id: str, timeout: float = 60) -> None:
        def parsed() -> bool:
            with session_scope(self.engine) as session:
                return self.cache.get(session, dag_id) is not None

        wait_for(parsed, timeout, message=f"DAG {dag_id} to be parsed")

    def trigger(self, dag_id: str, count: int = 1, conf: dict[str, Any] | None = None) -> list[str]:
        run_ids = []
        with session_scope(self.engine) as session:
            for i in range(count):
                run = trigger_dag_run(
                    session,
                    self.cache,
                    dag_id,
                    run_id=f"test_{i:03d}_{uuid.uuid4().hex[:6]}",
                    conf=conf,
                    triggered_by="test",
                )
                run_ids.append(run.run_id)
        return run_ids

    def run_states(self, dag_id: str) -> dict[str, str]:
        with session_scope(self.engine) as session:
            return dict(
                session.execute(sa.select(DagRun.run_id, DagRun.state).where(DagRun.dag_id == dag_id)).all()
            )

    def wait_for_runs(self, dag_id: str, run_ids: list[str], timeout: float) -> dict[str, str]:
        def done() -> dict[str, str] | None:
            states = self.run_states(dag_id)
            if all(states.get(r) in TERMINAL_RUN_STATES for r in run_ids):
                return states
            return None

        states = wait_for(done, timeout, interval=0.5, message=f"{len(run_ids)} runs of {dag_id} to finish")
        assert isinstance(states, dict)
        return states

    def task_instances(self, dag_id: str) -> list[TaskInstance]:
        with session_scope(self.engine) as session:
            return list(
                session.execute(sa.select(TaskInstance).where(TaskInstance.dag_id == dag_id)).scalars()
            )


def write_dag(folder: Path, name: str, source: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def logs_of(proc: subprocess.Popen[bytes]) -> str:
    """The tail of a process's output, for assertion messages."""
    path: Path = proc.log_path  # type: ignore[attr-defined]
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""
