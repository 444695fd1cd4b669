"""UI benchmark: server time, CPU time and bytes of web pages and their JSON at 1,000 DAGs.

usage: python bench/ui_bench.py [--db sqlite|postgres] [--dags 1000] [--runs-per-dag 10]
                                [--tasks-per-dag 10] [--requests 20] [--page NAME=PATH ...]

A scratch database is seeded with DAGs, finished runs and task instances spread over the last
hours, and a few nodes; each page is then requested ``--requests`` times in-process (the app
under Starlette's test client, so the figures are the server's time, not a network's; CPU time is the steadier figure on a
busy machine) with a
viewer's API token. Caches that would hide the server's work (the dashboard's) are off.

To add a page, add a line to ``PAGES`` (or pass ``--page name=/path``); to give it data of its
own, add to ``seed()``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

POSTGRES_ADMIN = os.environ.get("TANDEM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

#: name -> path, requested in this order. Paths may use {dag_id} (the first seeded DAG).
PAGES: dict[str, str] = {
    "dashboard": "/",
    "dashboard_json": "/api/v1/cluster/dashboard",
    "dag_list": "/dags",
    "dags_json": "/api/v1/dags?limit=100",
    "cluster": "/cluster",
}


def seed(engine: sa.Engine, dags: int, runs_per_dag: int, tasks_per_dag: int) -> dict[str, Any]:
    """DAGs with finished runs over the last ``runs_per_dag / 2`` hours, a few failures, some nodes."""
    from tandem.models import DagModel, DagRun, ImportError_, Node, TaskInstance

    now = datetime.now(UTC)
    dag_ids = [f"bench_dag_{i:04d}" for i in range(dags)]
    with engine.begin() as conn:
        conn.execute(sa.insert(DagModel), [
            {"dag_id": d, "is_paused": False, "is_active": True, "fileloc": f"/dags/{d}.py", "tags": ["bench"],
             "owners": "bench", "timetable_summary": "@hourly"} for d in dag_ids])
        runs, tis = [], []
        for n, dag_id in enumerate(dag_ids):
            for r in range(runs_per_dag):
                end = now - timedelta(minutes=30 * r + n % 30)
                start = end - timedelta(minutes=2)
                failed = (n + r) % 50 == 0
                run_id = f"scheduled__{end:%Y%m%dT%H%M%S}"
                runs.append({"dag_id": dag_id, "run_id": run_id, "logical_date": start, "run_after": start,
                             "run_type": "scheduled", "state": "failed" if failed else "success",
                             "queued_at": start, "start_date": start, "end_date": end, "conf": {}})
                for t in range(tasks_per_dag):
                    state = "failed" if failed and t == tasks_per_dag - 1 else "success"
                    tis.append({"dag_id": dag_id, "run_id": run_id, "task_id": f"task_{t}", "map_index": -1,
                                "state": state, "try_number": 1, "start_date": start, "end_date": end,
                                "duration": 120.0, "queue": "default" if t % 3 else "heavy"})
        for chunk in range(0, len(runs), 5000):
            conn.execute(sa.insert(DagRun), runs[chunk:chunk + 5000])
        for chunk in range(0, len(tis), 5000):
            conn.execute(sa.insert(TaskInstance), tis[chunk:chunk + 5000])
        nodes = [("scheduler", 3), ("worker", 4), ("api-server", 2)]
        conn.execute(sa.insert(Node), [
            {"id": str(uuid.uuid4()), "role": role, "hostname": f"{role}-{i}", "pid": 1000 + i, "version": "bench",
             "state": "running", "started_at": now, "last_heartbeat": now, "fingerprint": "", "divergent": False,
             "details": {"queues": ["default", "heavy"], "load": {"running": 3, "queued": 1, "open_slots": 5,
                                                                   "passes_per_s": 12.5}}}
            for role, count in nodes for i in range(count)])
        conn.execute(sa.insert(ImportError_), [
            {"fileloc_hash": uuid.uuid4().hex, "filename": f"/dags/broken_{i}.py", "stacktrace": "SyntaxError",
             "timestamp": now} for i in range(3)])
    return {"dag_id": dag_ids[0], "runs": len(runs), "task_instances": len(tis)}


def viewer_token(engine: sa.Engine) -> str:
    from tandem.api.auth.tokens import create_token
    from tandem.api.auth.users import create_user
    from tandem.db.session import session_scope

    with session_scope(engine) as session:
        return create_token(session, create_user(session, "bench", "bench-password-1", role="viewer"))


def measure(get: Callable[[str], Any], path: str, requests: int) -> dict[str, float]:
    get(path)  # warm: imports, template compilation, connection pool
    times, cpu, size = [], [], 0
    for _ in range(requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = get(path)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
        size = len(response.content)
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))],
            "cpu_ms": statistics.median(cpu), "bytes": size}


def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tandem-ui-bench-"))
    pg_name = None
    if args.db == "postgres":
        pg_name = f"tandem_bench_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE {pg_name}")
        url = sa.engine.make_url(POSTGRES_ADMIN).set(database=pg_name).render_as_string(False)
    else:
        url = f"sqlite:///{tmp / 'tandem.db'}"
    os.environ.update({"TANDEM_HOME": str(tmp), "TANDEM__DATABASE__URL": url, "TANDEM__CORE__LOAD_EXAMPLES": "false",
                       "TANDEM__API__SECRET_KEY": "ui-bench-secret-key-0123456789",
                       "TANDEM__CORE__FERNET_KEY": "q4BRm1TAAQMUYhsAA3bqzZ3jtCPtNSEGUunkr05YDVU="})
    from starlette.testclient import TestClient

    import tandem.api.dashboard
    from tandem.api.app import create_app
    from tandem.config import get_settings
    from tandem.db.engine import get_engine
    from tandem.db.migrate import migrate

    engine = get_engine()
    try:
        migrate(engine)
        started = time.perf_counter()
        seeded = seed(engine, args.dags, args.runs_per_dag, args.tasks_per_dag)
        if args.db == "postgres":  # as autovacuum would have by now: plans from statistics
            with engine.connect() as conn:
                conn.execute(sa.text("ANALYZE"))
                conn.commit()
        print(f"seeded {args.dags} DAGs, {seeded['runs']} runs, {seeded['task_instances']} task instances "
              f"on {args.db} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        token = viewer_token(engine)
        tandem.api.dashboard.CACHE_SECONDS = 0.0
        pages = {**PAGES, **dict(p.split("=", 1) for p in args.page)}
        with TestClient(create_app(get_settings(), engine=engine)) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            print(f"{'page':<18} {'median ms':>10} {'p95 ms':>8} {'cpu ms':>8} {'bytes':>9}  path")
            for name, path in pages.items():
                path = path.format(dag_id=seeded["dag_id"])
                m = measure(client.get, path, args.requests)
                print(f"{name:<18} {m['median_ms']:>10.1f} {m['p95_ms']:>8.1f} {m['cpu_ms']:>8.1f} {m['bytes']:>9}  {path}")
    finally:
        engine.dispose()
        if pg_name is not None:
            with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
                c.exec_driver_sql(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--dags", type=int, default=1000)
    parser.add_argument("--runs-per-dag", type=int, default=10)
    parser.add_argument("--tasks-per-dag", type=int, default=10)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--page", action="append", default=[], metavar="NAME=PATH", help="Also time this page.")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
