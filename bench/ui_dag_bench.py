"""UI page benchmark: server time and bytes of web pages on a big DAG.

Builds a scratch home with a 200-task DAG (task groups, one nested, and a mapped task) and 50
finished runs of it, then asks the in-process app for each page of ``PAGES`` several times and
prints the median server time and the response size. Add a page by adding a line to ``PAGES``.

usage: python bench/ui_bench.py [--db sqlite|postgres] [--repeats N] [--pages grid,graph]
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
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
from tests.fixtures.ui_data import BIG_DAG, BIG_DAG_ID, seed_finished_runs  # noqa: E402 - after the path

POSTGRES_ADMIN = os.environ.get("TANDEM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RUNS = 50

# name -> path; {dag} is the benchmark DAG's id, {run} its newest run.
PAGES: dict[str, str] = {
    "grid": "/dags/{dag}/grid?runs=50",
    "grid_data": "/dags/{dag}/grid/data?runs=50",
    "graph": "/dags/{dag}/graph",
    "graph_run": "/dags/{dag}/graph?run_id={run}",
    "graph_open": "/dags/{dag}/graph?run_id={run}&" + "&".join(
        [f"expand=group_{g:02d}" for g in range(12)] + ["expand=group_00.inner"]),
    "dag_list": "/dags",
}

def scratch_env(db: str) -> tuple[dict[str, str], str | None]:
    tmp = Path(tempfile.mkdtemp(prefix="tandem-ui-bench-"))
    (tmp / "home").mkdir()
    (tmp / "dags").mkdir()
    (tmp / "dags" / "big_200.py").write_text(BIG_DAG)
    pg_name = None
    if db == "postgres":
        pg_name = f"tandem_ui_bench_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE {pg_name}")
        url = sa.engine.make_url(POSTGRES_ADMIN).set(database=pg_name).render_as_string(False)
    else:
        url = f"sqlite:///{tmp / 'home' / 'tandem.db'}"
    env = {"TANDEM_HOME": str(tmp / "home"), "TANDEM__CORE__DAGS_FOLDER": str(tmp / "dags"),
           "TANDEM__CORE__LOAD_EXAMPLES": "false", "TANDEM__DATABASE__URL": url,
           "TANDEM__API__SECRET_KEY": "ui-bench-secret-key-" + uuid.uuid4().hex}
    return env, pg_name


def measure(client: object, path: str, repeats: int) -> tuple[float, float, int, int]:
    """Median wall and CPU seconds of a request; CPU time is what a loaded machine distorts least."""
    times, cpu, size, status = [], [], 0, 0
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(path)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        size, status = len(response.content), response.status_code
    return statistics.median(times), statistics.median(cpu), size, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated names from: " + ", ".join(PAGES))
    args = parser.parse_args(argv)
    unknown = [p for p in args.pages.split(",") if p not in PAGES]
    if unknown:
        parser.error(f"unknown pages {unknown}; choose from {list(PAGES)}")

    env, pg_name = scratch_env(args.db)
    os.environ.update(env)
    import warnings

    with warnings.catch_warnings():
        # Starlette's TestClient asks for httpx2 now; the httpx it runs on is still fine here.
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from tandem.api.app import create_app
    from tandem.api.auth.tokens import create_token
    from tandem.api.auth.users import create_user
    from tandem.config import get_settings
    from tandem.dag_processing.processor import parse_all
    from tandem.db.engine import get_engine
    from tandem.db.migrate import migrate
    from tandem.db.session import session_scope

    engine = get_engine(env["TANDEM__DATABASE__URL"])
    try:
        migrate(engine)
        parse_all(get_settings(), engine)
        t0 = time.perf_counter()
        seed_finished_runs(engine, BIG_DAG_ID, RUNS)
        print(f"seeded {RUNS} runs of a 200-task DAG in {time.perf_counter() - t0:.1f} s ({args.db})")
        with session_scope(engine) as session:
            user = create_user(session, "bench", "bench-Password-1", role="admin")
            token = create_token(session, user)
            newest = session.execute(sa.text("SELECT run_id FROM dag_run ORDER BY logical_date DESC")).scalar()
        app = create_app(get_settings(), engine=engine)
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            print(f"{'page':<12} {'status':>6} {'median ms':>10} {'cpu ms':>8} {'bytes':>10}")
            for name in args.pages.split(","):
                path = PAGES[name].format(dag=BIG_DAG_ID, run=newest)
                client.get(path)  # warm: templates compiled, caches filled
                seconds, cpu, size, status = measure(client, path, args.repeats)
                print(f"{name:<12} {status:>6} {seconds * 1000:>10.1f} {cpu * 1000:>8.1f} {size:>10,}")
    finally:
        engine.dispose()
        if pg_name:
            with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
                c.exec_driver_sql(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
        shutil.rmtree(Path(env["TANDEM_HOME"]).parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
