"""The two systems ``compare.py`` drives: Tandem (this checkout) and Apache Airflow (a venv).

Both run on a scratch PostgreSQL database of their own, with the same DAG shapes, and are
measured the same way, from their metadata DB's timestamps and their process trees.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import psutil
import redis
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from celery_bench import BROKERS, POSTGRES_ADMIN, tree_cpu_seconds  # noqa: E402
from celery_bench import Cluster as TandemCluster  # noqa: E402

# Above the widest mapped shape of compare.py (10,000).
MAX_MAP_LENGTH = 100_000
# A Redis database of its own: emptied when a run stops, so that an interrupted run's queued
# messages do not reach the next run's workers.
AIRFLOW_BROKER = BROKERS["redis"].rsplit("/", 1)[0] + "/5"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def tree(pids: list[int]) -> list[psutil.Process]:
    procs: list[psutil.Process] = []
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    return procs


def pss_mb(pids: list[int]) -> float:
    total = 0
    for p in tree(pids):
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return round(total / 2**20, 1)


def cpu_percent(pids: list[int], seconds: float) -> float:
    """CPU used by the process trees over ``seconds``, in % of one core."""

    def used() -> dict[int, float]:
        out = {}
        for p in tree(pids):
            try:
                t = p.cpu_times()
                out[p.pid] = t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                pass
        return out

    before = used()
    time.sleep(seconds)
    after = used()
    spent = sum(v - before.get(pid, v) for pid, v in after.items())
    return round(100 * spent / seconds, 2)


class RunNotFinished(TimeoutError):
    """A DAG run still going at its deadline; ``tis`` are its task instances at that moment."""

    def __init__(self, message: str, tis: list[Any]) -> None:
        super().__init__(message)
        self.tis = tis


class System:
    """What ``compare.py`` needs of a running system."""

    name = ""
    pids: list[int]

    def query(self, sql: str, **params: Any) -> list[Any]:
        raise NotImplementedError

    def trigger(self, dag_id: str) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def wait(self, sql: str, what: str, timeout: float = 600, **params: Any) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                rows = self.query(sql, **params)
            except sa.exc.DBAPIError:  # tables not there yet
                rows = []
            if rows and rows[0][0]:
                return rows
            time.sleep(0.1)
        raise TimeoutError(f"{self.name}: {what} did not happen within {timeout} s")

    def wait_parsed(self, *dag_ids: str, timeout: float = 600) -> None:
        for dag_id in dag_ids:
            self.wait("select count(*) from serialized_dag where dag_id=:d", f"parsing {dag_id}", timeout, d=dag_id)

    def pause(self, dag_id: str) -> None:
        raise NotImplementedError

    def run(self, dag_id: str, timeout: float = 1800) -> list[Any]:
        """Trigger ``dag_id``, wait for its run to end and return its task instances.

        A run still going after ``timeout`` seconds raises ``RunNotFinished`` with the task instances
        as they are, and its DAG is paused so that it stops taking slots from the next shape.
        """
        run_id = self.trigger(dag_id)
        tis = ("select task_id, map_index, state, start_date, end_date from task_instance "
               "where dag_id=:d and run_id=:r order by task_id, map_index")
        try:
            self.wait("select count(*) from dag_run where dag_id=:d and run_id=:r and state in ('success', 'failed')",
                      f"{dag_id} run", timeout, d=dag_id, r=run_id)
        except TimeoutError:
            rows = self.query(tis, d=dag_id, r=run_id)
            try:
                self.pause(dag_id)
            except subprocess.CalledProcessError:
                pass
            raise RunNotFinished(f"{self.name}: the {dag_id} run did not finish within {timeout:g} s", rows) from None
        return self.query(tis, d=dag_id, r=run_id)


class Tandem(System):
    """Tandem from this checkout: ``scheduler`` (+ ``worker`` for Celery) on a scratch database."""

    def __init__(self, dags: Path, *, executor: str = "local", broker: str | None = None,
                 parallelism: int = 16, concurrency: int = 4) -> None:
        self.name = "tandem"
        self.cluster = TandemCluster(executor, broker, parallelism, concurrency)
        self.cluster.env["TANDEM__CORE__DAGS_FOLDER"] = str(dags)
        self.cluster.env["TANDEM__SCHEDULER__DAG_DIR_LIST_INTERVAL"] = "5"
        self.cluster.env["TANDEM__CORE__MAX_MAP_LENGTH"] = str(MAX_MAP_LENGTH)
        self.concurrency = concurrency
        self.broker = broker
        self.pids = []

    def start(self) -> float:
        self.cluster.tandem("db", "migrate")
        t0 = time.monotonic()
        self.cluster.start("scheduler")
        if self.broker is not None:
            self.cluster.start("worker", "-c", str(self.concurrency), "--hostname", "compare")
            self.cluster.wait("select id from node where role='worker' and state='running'", "worker start")
        self.pids = [p.pid for p in self.cluster.procs]
        return t0

    def query(self, sql: str, **params: Any) -> list[Any]:
        return self.cluster.query(sql, **params)

    def trigger(self, dag_id: str) -> str:
        run_id = f"cmp_{uuid.uuid4().hex[:10]}"
        self.cluster.tandem("dags", "trigger", dag_id, "--run-id", run_id)
        return run_id

    def pause(self, dag_id: str) -> None:
        self.cluster.tandem("dags", "pause", dag_id)

    def stop(self) -> None:
        self.cluster.stop()


def tandem_standalone(parallelism: int) -> dict[str, Any]:
    """``tandem standalone`` as a user starts it (SQLite, example DAGs): start -> /health, idle PSS, CPU."""
    home = Path(tempfile.mkdtemp(prefix="tandem-compare-standalone-"))
    port = free_port()
    env = {**os.environ, "TANDEM_HOME": str(home), "TANDEM__API__PORT": str(port),
           "TANDEM__CORE__PARALLELISM": str(parallelism), "TANDEM__LOGGING__WORKER_LOG_SERVER_PORT": "0"}
    for key in [k for k in env if k.startswith("TANDEM__DATABASE__")]:
        del env[key]
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "tandem", "standalone"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        return _standalone_figures(proc, f"http://127.0.0.1:{port}/health", t0)
    finally:
        _stop_group(proc)
        shutil.rmtree(home, ignore_errors=True)


def _standalone_figures(proc: subprocess.Popen[bytes], health_url: str, t0: float,
                        timeout: float = 180) -> dict[str, Any]:
    while not answers(health_url):
        if proc.poll() is not None or time.monotonic() - t0 > timeout:
            raise RuntimeError(f"standalone exited or never answered {health_url}")
        time.sleep(0.02)
    health = time.monotonic() - t0
    # CPU spent until then: the start-up figure a busy machine does not stretch.
    cpu = tree_cpu_seconds([proc.pid])
    time.sleep(15)  # past start-up: parsing, first heartbeats
    return {"start_to_health_s": round(health, 2), "start_cpu_s": round(cpu, 2), "idle_pss_mb": pss_mb([proc.pid]),
            "idle_cpu_pct": cpu_percent([proc.pid], 10), "processes": len(tree([proc.pid]))}


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Airflow(System):
    """Apache Airflow from ``venv``, run as the anchor's ``run.sh`` runs it, on a scratch database."""

    def __init__(self, venv: Path, dags: Path, *, executor: str = "LocalExecutor",
                 parallelism: int = 16, concurrency: int = 4) -> None:
        self.name = "airflow"
        self.venv = venv
        self.executor = executor
        self.db_name = f"airflow_cmp_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE {self.db_name}")
        url = sa.engine.make_url(POSTGRES_ADMIN).set(database=self.db_name)
        self.engine = sa.create_engine(url)
        self.home = Path(tempfile.mkdtemp(prefix="airflow-compare-"))
        self.port = free_port()
        af_url = url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TANDEM", "AIRFLOW"))},
            "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": af_url,
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # Both fail a task whose XCom maps more than 1,024 items (core.max_map_length): raised on both so
            # that the mapped-over-10,000 shape runs.
            "AIRFLOW__CORE__MAX_MAP_LENGTH": str(MAX_MAP_LENGTH),
            "AIRFLOW__API__PORT": str(self.port),
            # Task supervisors report to the api-server's Execution API, by default at localhost:8080 whatever
            # api.port is: without this every try fails before it starts (no start_date).
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__CELERY__BROKER_URL": AIRFLOW_BROKER,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{af_url}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.pids = []

    def airflow(self, *args: str) -> None:
        subprocess.run([str(self.venv / "bin" / "airflow"), *args], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> float:
        self.airflow("db", "migrate")
        af = self.venv / "bin" / "airflow"
        if self.executor == "CeleryExecutor":
            # `airflow standalone` falls back to LocalExecutor: the components one by one (as run.sh).
            cmd = [f"'{af}' scheduler & '{af}' dag-processor & '{af}' api-server --port {self.port} & "
                   f"'{af}' celery worker & wait"]
            args = ["bash", "-c", *cmd]
        else:
            args = [str(af), "standalone"]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, env=self.env, stdout=(self.home / "airflow.log").open("wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pids = [self.proc.pid]
        return t0

    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2/monitor/health"

    def query(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as c:
            return list(c.execute(sa.text(sql), params))

    def trigger(self, dag_id: str) -> str:
        run_id = f"cmp_{uuid.uuid4().hex[:10]}"
        self.airflow("dags", "trigger", dag_id, "--run-id", run_id)
        return run_id

    def pause(self, dag_id: str) -> None:
        self.airflow("dags", "pause", dag_id)

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)
        if self.executor == "CeleryExecutor":
            redis.Redis.from_url(AIRFLOW_BROKER).flushdb()
        self.engine.dispose()
        with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")
        shutil.rmtree(self.home, ignore_errors=True)  # Airflow's logs of thousands of tries


def airflow_standalone(venv: Path, dags: Path, parallelism: int) -> dict[str, Any]:
    system = Airflow(venv, dags, parallelism=parallelism)
    try:
        t0 = system.start()
        assert system.proc is not None
        return _standalone_figures(system.proc, system.health_url(), t0, timeout=600)
    finally:
        system.stop()
