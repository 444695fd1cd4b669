"""Local-executor benchmark: hop latency, fan-out throughput, idle memory, standalone start-up.

usage: python bench/core_bench.py [--db sqlite|postgres|all] [--repeats N] [--parallelism N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
POSTGRES_ADMIN = os.environ.get("TANDEM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[int(q * (len(values) - 1))]


class Cluster:
    """A scratch TANDEM_HOME + database + one `tandem <role>` process."""

    def __init__(self, db: str, parallelism: int, examples: bool = False, dags: Path | None = HERE / "dags") -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
        self.db = db
        self.env = {**os.environ, "TANDEM_HOME": str(self.tmp / "home"),
                    "TANDEM__CORE__LOAD_EXAMPLES": "true" if examples else "false",
                    "TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
                    "TANDEM__CORE__PARALLELISM": str(parallelism),
                    "TANDEM__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
                    # scale_bench's mapped shape maps over more than the default 1,024 items.
                    "TANDEM__CORE__MAX_MAP_LENGTH": "100000"}
        if dags is not None:
            self.env["TANDEM__CORE__DAGS_FOLDER"] = str(dags)
        else:
            self.env["TANDEM__CORE__DAGS_FOLDER"] = str(self.tmp / "dags")
        self.pg_name = None
        if db == "postgres":
            self.pg_name = f"tandem_bench_{uuid.uuid4().hex[:8]}"
            with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
                c.exec_driver_sql(f"CREATE DATABASE {self.pg_name}")
            self.url = sa.engine.make_url(POSTGRES_ADMIN).set(database=self.pg_name).render_as_string(False)
        else:
            self.url = f"sqlite:///{self.tmp / 'home' / 'tandem.db'}"
        self.env["TANDEM__DATABASE__URL"] = self.url
        self.proc: subprocess.Popen[bytes] | None = None
        self.engine = None

    def tandem(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "tandem", *args], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def start(self, role: str) -> float:
        t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "tandem", role], env=self.env,
                                     stdout=(self.tmp / f"{role}.log").open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return t0

    def connect(self) -> Any:
        if self.engine is None:
            self.engine = sa.create_engine(self.url.replace("postgresql+psycopg", "postgresql+psycopg"))
        return self.engine

    def query(self, sql: str, **params: Any) -> list[Any]:
        while True:
            try:
                with self.connect().connect() as c:
                    return list(c.execute(sa.text(sql), params))
            except sa.exc.OperationalError:  # schema not there yet / DB locked
                time.sleep(0.05)

    def wait_dags(self, *dag_ids: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                rows = self.query("select dag_id from serialized_dag")
            except Exception:
                rows = []
            if set(dag_ids) <= {r[0] for r in rows}:
                return
            time.sleep(0.05)
        raise TimeoutError(f"DAGs {dag_ids} not parsed; see {self.tmp}")

    def trigger(self, dag_id: str) -> str:
        run_id = f"bench_{uuid.uuid4().hex[:10]}"
        self.tandem("dags", "trigger", dag_id, "--run-id", run_id)
        return run_id

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.query("select state from dag_run where dag_id=:d and run_id=:r", d=dag_id, r=run_id)
            if rows and rows[0][0] in ("success", "failed"):
                return rows[0][0]
            time.sleep(0.05)
        raise TimeoutError(f"{dag_id}/{run_id} did not finish; see {self.tmp}")

    def tis(self, dag_id: str, run_id: str) -> list[Any]:
        return self.query("select task_id, scheduled_at, queued_at, start_date, end_date, state from task_instance "
                          "where dag_id=:d and run_id=:r order by task_id", d=dag_id, r=run_id)

    def rss_mb(self) -> dict[str, float]:
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        procs = [root, *root.children(recursive=True)]
        out = {"main": root.memory_info().rss / 2**20}
        out["tree"] = sum(p.memory_info().rss for p in procs) / 2**20
        # PSS splits pages shared by forked processes between them: the memory really used.
        out["tree_pss"] = sum(p.memory_full_info().pss for p in procs) / 2**20
        out["processes"] = len(procs)
        return out

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.engine is not None:
            self.engine.dispose()
        if self.pg_name:
            with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
                c.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")


def _ts(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def measure_chain(c: Cluster) -> dict[str, float]:
    run_id = c.trigger("bench_chain")
    state = c.wait_run("bench_chain", run_id)
    tis = c.tis("bench_chain", run_id)
    hops = [(_ts(b.start_date) - _ts(a.end_date)).total_seconds() * 1000 for a, b in zip(tis, tis[1:])]
    wall = (_ts(tis[-1].end_date) - _ts(tis[0].start_date)).total_seconds()

    def leg(since: str, until: str) -> float:
        """Median ms of one leg of the hop: where the time between two tasks goes."""
        return round(statistics.median((_ts(getattr(b, until)) - _ts(getattr(a if since == "end_date" else b, since)))
                                       .total_seconds() * 1000 for a, b in zip(tis, tis[1:])), 1)

    return {"state": state, "wall_s": round(wall, 3), "hop_median_ms": round(statistics.median(hops), 1),
            "hop_p95_ms": round(percentile(hops, 0.95), 1),
            "end_to_scheduled_ms": leg("end_date", "scheduled_at"),
            "scheduled_to_queued_ms": leg("scheduled_at", "queued_at"),
            "queued_to_start_ms": leg("queued_at", "start_date")}


def measure_fanout(c: Cluster) -> dict[str, float]:
    run_id = c.trigger("bench_fanout")
    state = c.wait_run("bench_fanout", run_id)
    tis = c.tis("bench_fanout", run_id)
    first = min(_ts(t.start_date) for t in tis)
    last = max(_ts(t.end_date) for t in tis)
    return {"state": state, "tasks": len(tis), "wall_s": round((last - first).total_seconds(), 3),
            "tasks_per_s": round(len(tis) / (last - first).total_seconds(), 1)}


def bench_db(db: str, repeats: int, parallelism: int) -> dict[str, Any]:
    c = Cluster(db, parallelism)
    try:
        c.tandem("db", "migrate")
        c.start("scheduler")
        c.wait_dags("bench_chain", "bench_fanout")
        time.sleep(3)
        idle = c.rss_mb()
        chains = [measure_chain(c) for _ in range(repeats)]
        fanouts = [measure_fanout(c) for _ in range(repeats)]
        return {"db": db, "idle_rss_mb": idle, "chain": chains, "fanout": fanouts}
    finally:
        c.stop()


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def bench_standalone(parallelism: int) -> dict[str, Any]:
    c = Cluster("sqlite", parallelism, examples=True, dags=None)
    try:
        t0 = c.start("standalone")
        while not _answers("http://127.0.0.1:8080/health"):
            time.sleep(0.05)
        health = time.monotonic() - t0
        c.wait_dags("example_taskflow")
        run_id = c.trigger("example_taskflow")
        state = c.wait_run("example_taskflow", run_id)
        first_success = time.monotonic() - t0
        time.sleep(2)
        return {"health_answers_s": round(health, 2), "first_example_success_s": round(first_success, 2),
                "state": state, "rss_mb": c.rss_mb()}
    finally:
        c.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parallelism", type=int, default=32, help="core.parallelism (Tandem default 32)")
    parser.add_argument("--skip-standalone", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "parallelism": args.parallelism, "runs": []}
    for db in (["sqlite", "postgres"] if args.db == "all" else [args.db]):
        print(f"benchmarking {db} ...", file=sys.stderr)
        results["runs"].append(bench_db(db, args.repeats, args.parallelism))
    if not args.skip_standalone:
        print("benchmarking standalone start-up ...", file=sys.stderr)
        results["standalone"] = bench_standalone(args.parallelism)
    print_table(results)
    write_results("core", results)
    return 0


def write_results(prefix: str, results: dict[str, Any]) -> None:
    """Keep the raw figures as ``bench/results/<prefix>-<UTC time>.json``."""
    out = HERE / "results" / f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out}")


def print_table(results: dict[str, Any]) -> None:
    med = lambda rows, k: statistics.median(r[k] for r in rows)
    print(f"\n{'figure':<44}" + "".join(f"{r['db']:>12}" for r in results["runs"]) + f"{'Airflow':>12}")
    lines = [
        ("chain wall s (30 tasks)", lambda r: med(r["chain"], "wall_s"), 32.8),
        ("chain hop median ms", lambda r: med(r["chain"], "hop_median_ms"), 1012),
        ("chain hop p95 ms", lambda r: med(r["chain"], "hop_p95_ms"), 1056),
        ("  hop: upstream end -> scheduled ms", lambda r: med(r["chain"], "end_to_scheduled_ms"), None),
        ("  hop: scheduled -> queued ms", lambda r: med(r["chain"], "scheduled_to_queued_ms"), None),
        ("  hop: queued -> started ms", lambda r: med(r["chain"], "queued_to_start_ms"), None),
        ("fan-out tasks/s (201 tasks)", lambda r: med(r["fanout"], "tasks_per_s"), 2.69),
        ("scheduler idle RSS MB (main process)", lambda r: r["idle_rss_mb"]["main"], 170),
        ("scheduler idle RSS MB (process tree)", lambda r: r["idle_rss_mb"]["tree"], None),
        ("scheduler idle PSS MB (process tree)", lambda r: r["idle_rss_mb"]["tree_pss"], None),
    ]
    for name, fn, airflow in lines:
        print(f"{name:<44}" + "".join(f"{fn(r):>12.1f}" for r in results["runs"])
              + (f"{airflow:>12}" if airflow is not None else ""))
    s = results.get("standalone")
    if s:
        print(f"{'standalone start -> /health answers s':<44}{s['health_answers_s']:>12}{'':>12}{13:>12}")
        print(f"{'standalone start -> first example success s':<44}{s['first_example_success_s']:>12}")
        print(f"{'standalone RSS MB (process tree)':<44}{s['rss_mb']['tree']:>12.1f}{'':>12}{1800:>12}")
        print(f"{'standalone PSS MB (process tree)':<44}{s['rss_mb']['tree_pss']:>12.1f}")


if __name__ == "__main__":
    sys.exit(main())
