"""Celery-executor benchmark: hop latency (chain of 30 no-op tasks) and fan-out throughput
(200 no-op tasks), on Redis and on RabbitMQ, with PostgreSQL as metadata DB; the local
executor on the same DB for comparison. Figures come from the DB's own timestamps.

usage: python bench/celery_bench.py [--broker redis|rabbitmq|all] [--repeats N]
                                    [--concurrency N] [--parallelism N] [--no-local]

Each configuration gets a scratch database, a scratch $TANDEM_HOME and its own broker
namespace (a Redis key prefix; a RabbitMQ vhost when rabbitmqctl is available), one
scheduler and, for Celery, one `tandem worker`. One chain run warms the worker's pool
processes before anything is measured.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from core_bench import write_results

POSTGRES_ADMIN = os.environ.get(
    "TANDEM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BROKERS = {
    "redis": os.environ.get("TANDEM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "rabbitmq": os.environ.get("TANDEM_BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672"),
}
AIRFLOW = {"hop_median_ms": 1012, "hop_p95_ms": 1056, "chain_wall_s": 32.8, "tasks_per_s": 2.69}


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[int(q * (len(values) - 1))]


def rabbitmq_vhost(name: str, create: bool) -> bool:
    """Create (or delete) a private vhost; False when rabbitmqctl is not usable here."""
    commands = (
        [
            ["rabbitmqctl", "add_vhost", name],
            ["rabbitmqctl", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        ]
        if create
        else [["rabbitmqctl", "delete_vhost", name]]
    )
    try:
        for command in commands:
            subprocess.run(command, check=True, capture_output=True, timeout=60)
        return True
    except (OSError, subprocess.SubprocessError):
        return False


class Cluster:
    """Scratch home, database and broker namespace, plus the `tandem` processes of one configuration."""

    def __init__(self, executor: str, broker: str | None, parallelism: int, concurrency: int) -> None:
        self.name = executor if broker is None else f"celery+{broker}"
        self.tmp = Path(tempfile.mkdtemp(prefix="tandem-celery-bench-"))
        self.db_name = f"tandem_bench_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE {self.db_name}")
        self.url = sa.engine.make_url(POSTGRES_ADMIN).set(database=self.db_name).render_as_string(False)
        self.engine = sa.create_engine(self.url)
        self.concurrency = concurrency
        self.vhost: str | None = None
        self.env = {
            **os.environ,
            "TANDEM_HOME": str(self.tmp / "home"),
            "TANDEM__DATABASE__URL": self.url,
            "TANDEM__CORE__DAGS_FOLDER": str(HERE / "dags"),
            "TANDEM__CORE__LOAD_EXAMPLES": "false",
            "TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
            "TANDEM__CORE__PARALLELISM": str(parallelism),
            "TANDEM__CORE__EXECUTOR": executor,
            "TANDEM__API__SECRET_KEY": "bench",
            "TANDEM__LOGGING__WORKER_LOG_SERVER_PORT": "0",
        }
        self.redis_prefix = ""
        if broker == "redis":
            self.redis_prefix = f"tandem-bench-{uuid.uuid4().hex[:8]}:"
            self.env["TANDEM__CELERY__BROKER_URL"] = BROKERS["redis"]
            options = {"broker_transport_options": {"global_keyprefix": self.redis_prefix}}
            self.env["TANDEM__CELERY__EXTRA"] = json.dumps(options)
        elif broker == "rabbitmq":
            vhost = f"tandem_bench_{uuid.uuid4().hex[:8]}"
            self.vhost = vhost if rabbitmq_vhost(vhost, create=True) else None
            self.env["TANDEM__CELERY__BROKER_URL"] = f"{BROKERS['rabbitmq']}/{self.vhost or ''}"
        self.procs: list[subprocess.Popen[bytes]] = []

    def tandem(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "tandem", *args], env=self.env, check=True, stdout=subprocess.DEVNULL
        )

    def start(self, *args: str) -> None:
        log = (self.tmp / f"{args[0]}-{len(self.procs)}.log").open("wb")
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tandem", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def query(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as c:
            return list(c.execute(sa.text(sql), params))

    def wait(self, sql: str, what: str, timeout: float = 120, **params: Any) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.query(sql, **params)
            if rows:
                return rows
            time.sleep(0.05)
        raise TimeoutError(f"{what} did not happen within {timeout} s; see {self.tmp}")

    def run(self, dag_id: str) -> list[Any]:
        run_id = f"bench_{uuid.uuid4().hex[:10]}"
        self.tandem("dags", "trigger", dag_id, "--run-id", run_id)
        self.wait(
            "select state from dag_run where dag_id=:d and run_id=:r and state in ('success', 'failed')",
            f"{dag_id} run",
            timeout=600,
            d=dag_id,
            r=run_id,
        )
        return self.query(
            "select task_id, state, queued_at, start_date, end_date from task_instance "
            "where dag_id=:d and run_id=:r order by task_id",
            d=dag_id,
            r=run_id,
        )

    def commits(self) -> int:
        """Transactions committed in this database so far (all roles, the bench's own queries too)."""
        # Backends report their counts at most once a second.
        time.sleep(1.5)
        with self.engine.connect() as c:
            c.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
            return int(c.exec_driver_sql(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").scalar_one())

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.engine.dispose()
        with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")
        if self.vhost:
            rabbitmq_vhost(self.vhost, create=False)
        if self.redis_prefix:
            import redis

            client = redis.Redis.from_url(BROKERS["redis"])
            keys = list(client.scan_iter(match=f"{self.redis_prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()


def tree_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes and all their descendants, reaped ones included.

    CPU time is the figure a busy machine does not blur: wall-clock times stretch with the
    load, the work done per task does not.
    """
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            try:
                t = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            # A live process counts its own time; a reaped one is in its parent's children_* times.
            total += t.user + t.system + t.children_user + t.children_system
    return total


def chain_figures(tis: list[Any]) -> dict[str, Any]:
    pairs = list(itertools.pairwise(tis))
    hops = [(b.start_date - a.end_date).total_seconds() * 1000 for a, b in pairs]
    # A hop is the scheduler's part (upstream end -> queued) plus the trip to a runner (queued -> start).
    scheduling = [(b.queued_at - a.end_date).total_seconds() * 1000 for a, b in pairs]
    dispatch = [(b.start_date - b.queued_at).total_seconds() * 1000 for _, b in pairs]
    return {
        "state": "success" if all(t.state == "success" for t in tis) else "failed",
        "wall_s": round((tis[-1].end_date - tis[0].start_date).total_seconds(), 3),
        "hop_median_ms": round(statistics.median(hops), 1),
        "hop_p95_ms": round(percentile(hops, 0.95), 1),
        "end_to_queued_median_ms": round(statistics.median(scheduling), 1),
        "queued_to_start_median_ms": round(statistics.median(dispatch), 1),
    }


def fanout_figures(tis: list[Any]) -> dict[str, Any]:
    seconds = (max(t.end_date for t in tis) - min(t.start_date for t in tis)).total_seconds()
    return {
        "state": "success" if all(t.state == "success" for t in tis) else "failed",
        "tasks": len(tis),
        "wall_s": round(seconds, 3),
        "tasks_per_s": round(len(tis) / seconds, 1),
    }


def bench(executor: str, broker: str | None, args: argparse.Namespace) -> dict[str, Any]:
    c = Cluster(executor, broker, args.parallelism, args.concurrency)
    print(f"benchmarking {c.name} (scratch files in {c.tmp}) ...", file=sys.stderr)
    try:
        c.tandem("db", "migrate")
        c.start("scheduler")
        if broker is not None:
            c.start("worker", "-c", str(args.concurrency), "--hostname", f"bench-{broker}")
            c.wait("select id from node where role='worker' and state='running'", "worker start")
        c.wait("select dag_id from serialized_dag where dag_id='bench_fanout'", "DAG parsing")
        c.wait("select dag_id from serialized_dag where dag_id='bench_chain'", "DAG parsing")
        c.run("bench_chain")  # warm-up: pool processes import the DAG file once
        chains = [chain_figures(c.run("bench_chain")) for _ in range(args.repeats)]
        fanouts = []
        scheduler, runners = [c.procs[0].pid], [p.pid for p in c.procs[1:]] or [c.procs[0].pid]
        for _ in range(args.repeats):
            commits = c.commits()
            before = tree_cpu_seconds(scheduler), tree_cpu_seconds(runners)
            figures = fanout_figures(c.run("bench_fanout"))
            after = tree_cpu_seconds(scheduler), tree_cpu_seconds(runners)
            figures["db_commits_per_task"] = round((c.commits() - commits) / figures["tasks"], 2)
            # With the local executor the tries run in the scheduler's tree: one figure for both.
            figures["scheduler_cpu_ms_per_task"] = round(1000 * (after[0] - before[0]) / figures["tasks"], 2)
            figures["runner_cpu_ms_per_task"] = round(1000 * (after[1] - before[1]) / figures["tasks"], 2)
            fanouts.append(figures)
        return {"config": c.name, "chain": chains, "fanout": fanouts}
    finally:
        c.stop()


def print_table(results: dict[str, Any]) -> None:
    def med(rows: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(r[key] for r in rows))

    runs = results["runs"]
    print(
        f"\n{'figure (median of ' + str(results['repeats']) + ' runs)':<38}"
        + "".join(f"{r['config']:>17}" for r in runs)
        + f"{'Airflow local':>17}"
    )
    lines: list[tuple[str, Callable[[dict[str, Any]], float], float | None]] = [
        ("chain hop median ms", lambda r: med(r["chain"], "hop_median_ms"), AIRFLOW["hop_median_ms"]),
        ("chain hop p95 ms", lambda r: med(r["chain"], "hop_p95_ms"), AIRFLOW["hop_p95_ms"]),
        ("  of which end -> queued, median ms", lambda r: med(r["chain"], "end_to_queued_median_ms"), None),
        (
            "  of which queued -> start, median ms",
            lambda r: med(r["chain"], "queued_to_start_median_ms"),
            None,
        ),
        ("chain wall s (30 tasks)", lambda r: med(r["chain"], "wall_s"), AIRFLOW["chain_wall_s"]),
        ("fan-out tasks/s (201 tasks)", lambda r: med(r["fanout"], "tasks_per_s"), AIRFLOW["tasks_per_s"]),
        ("fan-out wall s", lambda r: med(r["fanout"], "wall_s"), 75.4),
        ("fan-out scheduler CPU ms per task", lambda r: med(r["fanout"], "scheduler_cpu_ms_per_task"), None),
        ("fan-out worker CPU ms per task", lambda r: med(r["fanout"], "runner_cpu_ms_per_task"), None),
        ("fan-out DB commits per task", lambda r: med(r["fanout"], "db_commits_per_task"), None),
    ]
    for name, fn, airflow in lines:
        print(
            f"{name:<38}"
            + "".join(f"{fn(r):>17.1f}" for r in runs)
            + f"{'' if airflow is None else airflow:>17}"
        )
    failed = [r["config"] for r in runs if any(x["state"] != "success" for x in r["chain"] + r["fanout"])]
    if failed:
        print(f"\nWARNING: runs that did not succeed in {', '.join(failed)}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--broker", choices=["redis", "rabbitmq", "all"], default="all")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="worker concurrency (pool processes)")
    parser.add_argument("--parallelism", type=int, default=64, help="core.parallelism of the scheduler")
    parser.add_argument("--no-local", action="store_true", help="skip the local-executor comparison")
    args = parser.parse_args()
    configs: list[tuple[str, str | None]] = [] if args.no_local else [("local", None)]
    configs += [("celery", b) for b in (["redis", "rabbitmq"] if args.broker == "all" else [args.broker])]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "repeats": args.repeats,
        "concurrency": args.concurrency,
        "parallelism": args.parallelism,
        "cpus": os.cpu_count(),
        "runs": [bench(e, b, args) for e, b in configs],
    }
    print_table(results)
    write_results("celery", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
