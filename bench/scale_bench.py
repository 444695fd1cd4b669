"""Cost-shape benchmark: how the scheduler's cost grows with a run's width (local executor).

For a chain of 30, fan-outs of several widths and a mapped task, reports tasks/s (first start
to last end), the scheduler process's CPU ms per task (psutil, not the supervisors) and its
database statements, commits and pool pings per task (counted in that process by SQLAlchemy listeners).

usage: python bench/scale_bench.py [--db postgres|sqlite] [--widths 200,1000,5000] [--mapped 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shapes
from core_bench import Cluster, _ts, write_results

# Runs `tandem scheduler` with statement and commit counters that a signal dumps to a file.
WRAPPER = textwrap.dedent('''
    import json, os, signal, sys
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
    counts = {"statements": 0, "commits": 0, "pings": 0}
    def _stmt(*_a, **_k): counts["statements"] += 1
    def _commit(*_a, **_k): counts["commits"] += 1
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", _stmt)
    sa.event.listen(sa.engine.Engine, "commit", _commit)
    # A pool's pre-ping bypasses the statement events: count it where the dialect defines it.
    for cls in {c for d in (PGDialect_psycopg, SQLiteDialect_pysqlite) for c in d.__mro__ if "do_ping" in vars(c)}:
        def _counted(self, conn, _orig=vars(cls)["do_ping"]):
            counts["pings"] += 1
            return _orig(self, conn)
        cls.do_ping = _counted
    main_pid = os.getpid()
    def _dump(*_a):
        if os.getpid() == main_pid:
            with open(os.environ["BENCH_COUNTS"], "w") as f:
                json.dump(counts, f)
    signal.signal(signal.SIGUSR1, _dump)
    from tandem.cli.main import main
    sys.exit(main(["scheduler"]))
''')

class Counted(Cluster):
    def start(self, role: str) -> float:
        import subprocess

        self.counts_file = self.tmp / "counts.json"
        self.env["BENCH_COUNTS"] = str(self.counts_file)
        t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-c", WRAPPER], env=self.env,
                                     stdout=(self.tmp / f"{role}.log").open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return t0

    def sample(self) -> dict[str, float]:
        import signal

        assert self.proc is not None
        self.counts_file.unlink(missing_ok=True)
        self.proc.send_signal(signal.SIGUSR1)
        for _ in range(200):
            if self.counts_file.exists() and self.counts_file.stat().st_size:
                break
            time.sleep(0.01)
        counts = json.loads(self.counts_file.read_text())
        cpu = psutil.Process(self.proc.pid).cpu_times()
        return {"cpu": cpu.user + cpu.system, **counts}


def measure(c: Counted, dag_id: str) -> dict[str, Any]:
    before = c.sample()
    run_id = c.trigger(dag_id)
    state = c.wait_run(dag_id, run_id, timeout=1800)
    after = c.sample()
    tis = c.tis(dag_id, run_id)
    n = len(tis)
    first = min(_ts(t.start_date) for t in tis)
    last = max(_ts(t.end_date) for t in tis)
    out: dict[str, Any] = {
        "dag": dag_id, "state": state, "tasks": n, "wall_s": round((last - first).total_seconds(), 2),
        "tasks_per_s": round(n / (last - first).total_seconds(), 1),
        "cpu_ms_per_task": round((after["cpu"] - before["cpu"]) * 1000 / n, 2),
        "statements_per_task": round((after["statements"] - before["statements"]) / n, 2),
        "commits_per_task": round((after["commits"] - before["commits"]) / n, 2),
        "pings_per_task": round((after["pings"] - before["pings"]) / n, 2),
    }
    if dag_id == shapes.chain_id():
        ordered = sorted(tis, key=lambda t: t.task_id)
        hops = [(_ts(b.start_date) - _ts(a.end_date)).total_seconds() * 1000 for a, b in zip(ordered, ordered[1:])]
        out["hop_median_ms"] = round(statistics.median(hops), 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--widths", default="200,1000,5000")
    parser.add_argument("--mapped", type=int, default=10000, help="width of the mapped task (0: none)")
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",") if w]
    c = Counted(args.db, args.parallelism, dags=None)
    dags = c.tmp / "dags"
    dags.mkdir()
    # The comparison's shapes (bench/shapes.py), so both benches run the same DAGs.
    shapes.write_run_shapes(dags, "tandem", chain=30, fanouts=widths, mapped=[args.mapped] if args.mapped else [])
    ids = [shapes.chain_id(), *(shapes.fanout_id(w) for w in widths)]
    ids += [shapes.mapped_id(args.mapped)] if args.mapped else []
    results: list[dict[str, Any]] = []
    try:
        c.tandem("db", "migrate")
        c.start("scheduler")
        c.wait_dags(*ids, timeout=300)
        time.sleep(3)
        for dag_id in ids:
            for _ in range(args.repeats):
                results.append(measure(c, dag_id))
                print(json.dumps(results[-1]), file=sys.stderr)
    finally:
        c.stop()
    write_results("scale", {"db": args.db, "parallelism": args.parallelism, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
