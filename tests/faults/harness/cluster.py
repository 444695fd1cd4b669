"""A cluster of ``tandem`` processes on one PostgreSQL database, for fault injection.

The test (or the soak bench) talks to the database directly (``engine``), while the nodes may
reach it through a :class:`~tests.faults.harness.proxy.TcpProxy` (``node_db_url``) so that the
path between nodes and DB can be broken without breaking the observer. Every process started
is a session leader and is killed with its whole session at the end (``close``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.scheduler.dag_data import DagDataCache
from tandem.scheduler.dagruns import trigger_dag_run
from tests.fixtures.processes import Processes

#: Short timings so that every timeout passes within a test's time.
FAST = {
    "TANDEM__SCHEDULER__HEARTBEAT_INTERVAL": "1",
    "TANDEM__SCHEDULER__NODE_TIMEOUT": "5",
    "TANDEM__SCHEDULER__ZOMBIE_THRESHOLD": "6",
    "TANDEM__SCHEDULER__QUEUED_TIMEOUT": "20",
    "TANDEM__SCHEDULER__POLL_INTERVAL": "0.5",
    "TANDEM__SCHEDULER__DAG_DIR_LIST_INTERVAL": "2",
    "TANDEM__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "1",
    "TANDEM__DATABASE__CONNECT_TIMEOUT": "5",
    "TANDEM__DATABASE__IDLE_IN_TRANSACTION_TIMEOUT": "5",
}
ACTIVE_TI_STATES = ("scheduled", "queued", "running", "up_for_retry")


@dataclass
class NodeProc:
    """One ``tandem`` process: a scheduler or a worker."""

    name: str
    role: str
    proc: subprocess.Popen[bytes]
    hostname: str = ""
    stopped_on_purpose: bool = False
    paused: bool = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def log_path(self) -> Path:
        return Path(self.proc.log_path)  # type: ignore[attr-defined]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class FaultCluster:
    """``workdir`` holds $TANDEM_HOME, the DAG folder, the side file and the process logs."""

    workdir: Path
    db_url: str
    node_db_url: str = ""
    executor: str = "local"
    broker_url: str = ""
    broker_extra: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    nodes: list[NodeProc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home = self.workdir / "home"
        self.dags = self.workdir / "dags"
        self.logs = self.workdir / "proc-logs"
        for d in (self.home, self.dags, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        self.side = self.workdir / "side.txt"
        self.side.touch()
        self.processes = Processes(self.logs)
        self.engine = sa.create_engine(self.db_url, poolclass=sa.pool.NullPool)
        self.cache = DagDataCache()

    # -- processes ----------------------------------------------------------------------------

    def node_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        import json

        env = {
            "TANDEM_HOME": str(self.home),
            "TANDEM_CONFIG": str(self.home / "tandem.toml"),
            "TANDEM__CORE__DAGS_FOLDER": str(self.dags),
            "TANDEM__CORE__LOAD_EXAMPLES": "false",
            "TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
            "TANDEM__CORE__FERNET_KEY": "q4BRm1TAAQMUYhsAA3bqzZ3jtCPtNSEGUunkr05YDVU=",
            "TANDEM__CORE__PARALLELISM": "8",
            "TANDEM__API__SECRET_KEY": "fault-secret",
            "TANDEM__DATABASE__URL": self.node_db_url or self.db_url,
            "TANDEM__CORE__EXECUTOR": self.executor,
            "TANDEM__LOGGING__WORKER_LOG_SERVER_PORT": "0",
            "TANDEM__LOGGING__WORKER_LOG_SERVER_ADDRESS": "127.0.0.1",
            **FAST,
            **self.env,
        }
        if self.broker_url:
            env["TANDEM__CELERY__BROKER_URL"] = self.broker_url
            env["TANDEM__CELERY__EXTRA"] = json.dumps(self.broker_extra)
        return {**env, **(extra or {})}

    def tandem(self, *args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run a one-shot ``tandem`` command (``db migrate``, ``dags pause``...) to its end."""
        import sys

        return subprocess.run([sys.executable, "-m", "tandem", *args], env={**os.environ, **self.node_env(env)}, check=False,
                              capture_output=True, text=True, timeout=timeout)

    def scheduler(self, name: str | None = None, env: dict[str, str] | None = None) -> NodeProc:
        name = name or f"scheduler{sum(n.role == 'scheduler' for n in self.nodes)}"
        proc = self.processes.start("scheduler", name=name, env=self.node_env(env))
        node = NodeProc(name, "scheduler", proc)
        self.nodes.append(node)
        return node

    def worker(self, hostname: str, concurrency: int = 2, env: dict[str, str] | None = None,
               wait: float = 60) -> NodeProc:
        proc = self.processes.start("worker", "-q", "default", "-c", str(concurrency), "--hostname", hostname,
                                    name=f"worker-{hostname}", env=self.node_env(env))
        node = NodeProc(hostname, "worker", proc, hostname=hostname)
        self.nodes.append(node)
        deadline = time.monotonic() + wait
        while not self._query("select count(*) from node where role='worker' and hostname=:h and state='running'",
                              h=hostname)[0][0]:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {hostname} did not register; log:\n{node.log()[-3000:]}")
            time.sleep(0.3)
        return node

    def schedulers(self) -> list[NodeProc]:
        return [n for n in self.nodes if n.role == "scheduler"]

    def workers(self) -> list[NodeProc]:
        return [n for n in self.nodes if n.role == "worker"]

    def stop(self, node: NodeProc) -> None:
        node.stopped_on_purpose = True
        if node.paused:
            resume(node.pid)
        self.processes.stop(node.proc)

    def close(self) -> None:
        for node in self.nodes:
            if node.paused:
                resume(node.pid, group=True)
        self.processes.cleanup()
        self.engine.dispose()

    # -- DAGs and runs ------------------------------------------------------------------------

    def write_dag(self, name: str, source: str) -> Path:
        path = self.dags / f"{name}.py"
        path.write_text(source)
        return path

    def wait_dags(self, *dag_ids: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self._query("select dag_id from serialized_dag")
            if set(dag_ids) <= {r[0] for r in rows}:
                return
            time.sleep(0.2)
        logs = "\n".join(n.log()[-2000:] for n in self.nodes)
        raise TimeoutError(f"DAGs {dag_ids} were not parsed in {timeout} s\n{logs}")

    def trigger(self, dag_id: str, count: int = 1) -> list[str]:
        run_ids = []
        with session_scope(self.engine) as session:
            for _ in range(count):
                run_id = f"f_{uuid.uuid4().hex[:10]}"
                trigger_dag_run(session, self.cache, dag_id, run_id=run_id, triggered_by="test")
                run_ids.append(run_id)
        return run_ids

    def _query(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def query(self, sql: str, **params: Any) -> list[Any]:
        return self._query(sql, **params)

    def unfinished(self) -> tuple[int, int]:
        """(runs not ended, task instances scheduled/queued/running/up_for_retry)."""
        runs = self._query("select count(*) from dag_run where state not in ('success','failed')")[0][0]
        tis = self._query("select count(*) from task_instance where state in "
                          "('scheduled','queued','running','up_for_retry')")[0][0]
        return int(runs), int(tis)

    def settle(self, timeout: float, interval: float = 0.5) -> float | None:
        """Seconds until no run is unfinished and no task instance is active; None on timeout."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.unfinished() == (0, 0):
                return round(time.monotonic() - start, 1)
            time.sleep(interval)
        return None

    def progress(self) -> int:
        """Tries finished so far (successful or not): grows while the cluster makes progress."""
        return int(self._query("select count(*) from task_try where end_date is not null")[0][0])


# -- signals ------------------------------------------------------------------------------------


def pause(pid: int, group: bool = False) -> None:
    """SIGSTOP a process (or its whole process group: a frozen VM, every child with it)."""
    if group:
        os.killpg(pid, signal.SIGSTOP)
    else:
        os.kill(pid, signal.SIGSTOP)


def resume(pid: int, group: bool = False) -> None:
    try:
        if group:
            os.killpg(pid, signal.SIGCONT)
        else:
            os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


@contextmanager
def paused(node: NodeProc, seconds: float, *, group: bool = False, pid: int | None = None) -> Iterator[None]:
    """Freeze ``node`` (or one of its children, ``pid``) for ``seconds``; always thawed."""
    target = pid or node.pid
    pause(target, group)
    node.paused = target == node.pid
    try:
        yield
        time.sleep(seconds)
    finally:
        resume(target, group)
        node.paused = False


def supervisor_of(node: NodeProc, try_pid: int) -> int | None:
    """The local-executor supervisor (a direct child of ``node``) that forked process ``try_pid``."""
    try:
        proc = psutil.Process(try_pid)
        while proc.ppid() not in (node.pid, 0, 1):
            proc = psutil.Process(proc.ppid())
    except psutil.NoSuchProcess:
        return None
    return proc.pid if proc.ppid() == node.pid else None
