"""Scheduler cost per task, without runners or noise: CPU and database round trips per task.

Drives one in-process scheduler over a DAG run with a stub executor of ``--parallelism``
slots; between passes the tries handed out are claimed and finished with the runner's own
database writes (not counted). Counts only what the scheduler's passes spend: CPU time of
this thread, statements, commits and pool pings. Shapes: a chain of 30, fan-outs of the
given widths (one start task, then N tasks), a mapped task of the given width.

usage: python bench/pass_bench.py [--db postgres|sqlite] [--widths 200,1000,5000] [--mapped 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

POSTGRES_ADMIN = os.environ.get("TANDEM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

FANOUT = """
from datetime import datetime
from tandem import DAG
from tandem.operators import EmptyOperator
with DAG("fanout_{w}", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks={p}) as d:
    first = EmptyOperator(task_id="start")
    for i in range({w}):
        first >> EmptyOperator(task_id=f"n{{i:05d}}")
"""
MAPPED = """
from datetime import datetime
from tandem import DAG, task
with DAG("mapped_{w}", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks={p}) as d:
    @task
    def items():
        return list(range({w}))
    @task
    def noop(x):
        return None
    noop.expand(x=items())
"""
CHAIN = """
from datetime import datetime
from tandem import DAG
from tandem.operators import EmptyOperator
with DAG("chain", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    previous = None
    for i in range(30):
        current = EmptyOperator(task_id=f"t{i:02d}")
        if previous is not None:
            previous >> current
        previous = current
"""


class Counter:
    def __init__(self) -> None:
        self.on = False
        self.counts = {"statements": 0, "commits": 0, "pings": 0}

    def install(self) -> None:
        from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

        def count(kind: str) -> Any:
            def _count(*_a: Any, **_k: Any) -> None:
                if self.on:
                    self.counts[kind] += 1
            return _count

        sa.event.listen(sa.engine.Engine, "before_cursor_execute", count("statements"))
        sa.event.listen(sa.engine.Engine, "commit", count("commits"))
        ping = count("pings")
        # A pool's pre-ping bypasses the statement events: count it where the dialect defines it.
        for cls in {c for d in (PGDialect_psycopg, SQLiteDialect_pysqlite) for c in d.__mro__ if "do_ping" in vars(c)}:
            def _counted(self: Any, conn: Any, _orig: Any = vars(cls)["do_ping"]) -> Any:
                ping()
                return _orig(self, conn)
            cls.do_ping = _counted  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--widths", default="200,1000,5000")
    parser.add_argument("--mapped", type=int, default=10000)
    parser.add_argument("--parallelism", type=int, default=16)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tandem-pass-bench-"))
    widths = [int(w) for w in args.widths.split(",") if w]
    (tmp / "dags").mkdir()
    (tmp / "dags" / "chain.py").write_text(CHAIN)
    for w in widths:
        (tmp / "dags" / f"fanout_{w}.py").write_text(FANOUT.format(w=w, p=args.parallelism))
    if args.mapped:
        (tmp / "dags" / "mapped.py").write_text(MAPPED.format(w=args.mapped, p=args.parallelism))
    pg_name = None
    if args.db == "postgres":
        pg_name = f"tandem_pass_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE {pg_name}")
        url = sa.engine.make_url(POSTGRES_ADMIN).set(database=pg_name).render_as_string(False)
    else:
        url = f"sqlite:///{tmp / 'tandem.db'}"
    os.environ.update({"TANDEM_HOME": str(tmp / "home"), "TANDEM__DATABASE__URL": url,
                       "TANDEM__CORE__DAGS_FOLDER": str(tmp / "dags"), "TANDEM__CORE__LOAD_EXAMPLES": "false",
                       "TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false"})
    try:
        results = run(url, widths, args.mapped, args.parallelism)
    finally:
        from tandem.db.engine import dispose_engines

        dispose_engines(close=True)
        if pg_name:
            with sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
                c.exec_driver_sql(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
    print(json.dumps({"db": args.db, "parallelism": args.parallelism, "results": results}, indent=1))
    return 0


def run(url: str, widths: list[int], mapped: int, parallelism: int) -> list[dict[str, Any]]:
    from tandem.cluster.nodes import register_node
    from tandem.config import get_settings
    from tandem.dag_processing.processor import parse_all
    from tandem.db.engine import get_engine
    from tandem.db.migrate import migrate
    from tandem.db.session import session_scope
    from tandem.executors.base import ExecutorStart
    from tandem.executors.stub import StubExecutor
    from tandem.models import DagRun
    from tandem.runner.execute import Outcome, claim_many, finish_many
    from tandem.scheduler.dagruns import trigger_dag_run
    from tandem.scheduler.loop import Scheduler
    from tandem.state import TaskInstanceState

    engine = get_engine(url)
    migrate(engine)
    settings = get_settings()
    parse_all(settings, engine)
    counter = Counter()
    counter.install()
    ids = ["chain", *(f"fanout_{w}" for w in widths), *([f"mapped_{mapped}"] if mapped else [])]
    out = []
    for dag_id in ids:
        executor = StubExecutor(slots=parallelism)
        with session_scope(engine) as session:
            node_id = register_node(session, "scheduler")
        executor.start(ExecutorStart(settings=settings, node_id=node_id, parallelism=parallelism))
        scheduler = Scheduler(settings, executor, engine=engine, node_id=node_id)
        with session_scope(engine) as session:
            run_id = trigger_dag_run(session, scheduler.cache, dag_id).run_id
        counter.counts = dict.fromkeys(counter.counts, 0)
        cpu = 0.0
        passes = tasks = 0
        wall = time.monotonic()
        while True:
            counter.on = True
            t0 = time.thread_time()
            scheduler.run_once(discover=passes % 10 == 0)  # as run_forever: discovery every few passes
            cpu += time.thread_time() - t0
            counter.on = False
            passes += 1
            taken = executor.take()
            tasks += len(taken)
            if taken:
                claims = claim_many(taken, node_id=node_id, hostname="bench")
                finish_many([(w, c, Outcome(TaskInstanceState.SUCCESS, xcoms=_xcoms(w, mapped)))
                             for w, c in zip(taken, claims, strict=True) if c is not None])
            with session_scope(engine) as session:
                state = session.execute(sa.select(DagRun.state).where(
                    DagRun.dag_id == dag_id, DagRun.run_id == run_id)).scalar_one()
            if state in ("success", "failed"):
                break
        c = counter.counts
        out.append({"dag": dag_id, "state": state, "tasks": tasks, "passes": passes,
                    "sched_cpu_ms_per_task": round(cpu * 1000 / tasks, 3),
                    "statements_per_task": round(c["statements"] / tasks, 2),
                    "commits_per_task": round(c["commits"] / tasks, 2), "pings_per_task": round(c["pings"] / tasks, 2),
                    "wall_s": round(time.monotonic() - wall, 1)})
        print(json.dumps(out[-1]), file=sys.stderr)
    return out


def _xcoms(workload: Any, width: int) -> dict[str, Any]:
    return {"return_value": list(range(width))} if workload.task_id == "items" else {}


if __name__ == "__main__":
    sys.exit(main())
