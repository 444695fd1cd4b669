"""Scale-out benchmark: task instances per second through scheduled -> success with 1, 2 and 3
schedulers sharing one PostgreSQL database (local executor, no-op tasks).

usage: python bench/cluster_bench.py [--schedulers 1,2,3] [--runs 5] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from core_bench import Cluster, _ts, write_results


def measure(schedulers: int, runs: int, parallelism: int) -> dict[str, Any]:
    c = Cluster("postgres", parallelism)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        c.tandem("db", "migrate")
        for i in range(schedulers):
            procs.append(subprocess.Popen([sys.executable, "-m", "tandem", "scheduler"], env=c.env,
                                          stdout=(c.tmp / f"scheduler{i}.log").open("wb"), stderr=subprocess.STDOUT,
                                          start_new_session=True))
        c.wait_dags("bench_fanout")
        time.sleep(2)
        run_ids = [c.trigger("bench_fanout") for _ in range(runs)]
        for run_id in run_ids:
            c.wait_run("bench_fanout", run_id, timeout=900)
        rows = c.query("select start_date, end_date, queued_by from task_instance")
        first = min(_ts(r.start_date) for r in rows)
        last = max(_ts(r.end_date) for r in rows)
        per_scheduler = {}
        for r in rows:
            per_scheduler[r.queued_by] = per_scheduler.get(r.queued_by, 0) + 1
        seconds = (last - first).total_seconds()
        return {"schedulers": schedulers, "task_instances": len(rows), "seconds": round(seconds, 2),
                "tis_per_s": round(len(rows) / seconds, 1), "queued_by_scheduler": sorted(per_scheduler.values())}
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        c.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schedulers", default="1,2,3")
    parser.add_argument("--runs", type=int, default=5, help="runs of bench_fanout (201 tasks each)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--parallelism", type=int, default=32, help="core.parallelism (Tandem default 32)")
    args = parser.parse_args()
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "runs": args.runs, "results": []}
    for n in (int(x) for x in args.schedulers.split(",")):
        samples = []
        for _ in range(args.repeats):
            print(f"{n} scheduler(s) ...", file=sys.stderr)
            samples.append(measure(n, args.runs, args.parallelism))
        results["results"].append({"schedulers": n, "samples": samples,
                                   "median_tis_per_s": statistics.median(s["tis_per_s"] for s in samples)})
    print(f"\n{'schedulers':>10} {'TI/s (median)':>14} {'samples':>20}  queued by each scheduler")
    for r in results["results"]:
        print(f"{r['schedulers']:>10} {r['median_tis_per_s']:>14.1f} "
              f"{', '.join(str(s['tis_per_s']) for s in r['samples']):>20}  {r['samples'][0]['queued_by_scheduler']}")
    write_results("cluster", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
