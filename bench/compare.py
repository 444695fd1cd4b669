"""Tandem beside Apache Airflow: the same shapes, runs alternated, one table with ratios.

usage: python bench/compare.py [--airflow-venv PATH] [--quick] [--repeats N] [--parallelism N]
                               [--only local,celery,many,standalone]

Shapes (no-op tasks, PostgreSQL metadata DB for both, a scratch database each):
  local     chain of 30 (hop latency), fan-out 200/1,000/5,000 and a task mapped over 10,000
            (tasks/s), local executors of the same parallelism;
  celery    chain of 30 and fan-out 200 on Celery + Redis, one worker of concurrency 4;
  many      1,000 DAG files of 5 tasks each, scheduled once: time to parse them all, tasks/s
            of the 5,000 tries, idle CPU once they are done;
  standalone  ``standalone`` start until its health endpoint answers, idle PSS and CPU.

Without ``--airflow-venv`` only Tandem is measured. The anchors in ``../shared/anchors/airflow/`` install
Airflow with ``install.sh VENV``. Each repeat runs Tandem and Airflow one after the other, the
order swapped every repeat, so that machine noise falls on both. ``--quick``: one repeat,
smaller widths (fan-out 200/1,000, mapped 1,000, 200 DAG files). Results are printed and
written to ``bench/results/compare-<time>.json``.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import shapes  # noqa: E402
from core_bench import percentile, write_results  # noqa: E402
from systems import Airflow, System, Tandem, airflow_standalone, cpu_percent, tandem_standalone  # noqa: E402

SECTIONS = ("local", "celery", "many", "standalone")


def seconds(a: Any, b: Any) -> float:
    return float((b - a).total_seconds())


def chain_figures(tis: list[Any]) -> dict[str, Any]:
    hops = [seconds(a.end_date, b.start_date) * 1000 for a, b in itertools.pairwise(tis)]
    return {"ok": all(t.state == "success" for t in tis), "hop_median_ms": round(statistics.median(hops), 1),
            "hop_p95_ms": round(percentile(hops, 0.95), 1)}


def throughput(tis: list[Any]) -> dict[str, Any]:
    span = seconds(min(t.start_date for t in tis), max(t.end_date for t in tis))
    return {"ok": all(t.state == "success" for t in tis), "tasks": len(tis),
            "tasks_per_s": round(len(tis) / span, 2) if span > 0 else 0.0}


def measure_runs(system: System, fanouts: list[int], mapped: list[int]) -> dict[str, Any]:
    dag_ids = [shapes.chain_id(), *map(shapes.fanout_id, fanouts), *map(shapes.mapped_id, mapped)]
    system.wait_parsed(*dag_ids)
    system.run(shapes.chain_id())  # warm-up: runners import the DAG once
    out: dict[str, Any] = {"chain": chain_figures(system.run(shapes.chain_id()))}
    for n in fanouts:
        out[f"fanout_{n}"] = throughput(system.run(shapes.fanout_id(n)))
    for n in mapped:
        out[f"mapped_{n}"] = throughput(system.run(shapes.mapped_id(n)))
    return out


def measure_many(system: System, count: int) -> dict[str, Any]:
    t0 = system.start()  # type: ignore[attr-defined]
    where = "dag_id like 'cmp_many_%'"
    system.wait(f"select count(*) >= {count} from serialized_dag where {where}", "parsing", 1800)
    parsed = time.monotonic() - t0
    system.wait(f"select count(*) >= {count} from dag_run where {where} and state in ('success', 'failed')",
                "the runs", 3600)
    tis = system.query(f"select task_id, state, start_date, end_date from task_instance where {where}")
    time.sleep(5)
    return {"parse_s": round(parsed, 1), **throughput(tis), "idle_cpu_pct": cpu_percent(system.pids, 20)}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="tandem-compare-"))
        quick = args.quick
        self.fanouts = [200, 1000] if quick else [200, 1000, 5000]
        self.mapped = [1000] if quick else [10000]
        self.many = args.many or (200 if quick else 1000)
        self.systems = ["tandem"] + (["airflow"] if args.airflow_venv else [])

    def dags(self, system: str, kind: str) -> Path:
        folder = self.tmp / system / kind
        if not folder.exists():
            if kind == "runs":
                shapes.write_run_shapes(folder, system, chain=30, fanouts=self.fanouts, mapped=self.mapped)
            elif kind == "celery":
                shapes.write_run_shapes(folder, system, chain=30, fanouts=[200], mapped=[])
            elif kind == "many":
                shapes.write_many(folder, system, self.many)
            else:
                shapes.write_run_shapes(folder, system, chain=30, fanouts=[], mapped=[])
        return folder

    def make(self, system: str, kind: str, celery: bool = False) -> System:
        p, c = self.args.parallelism, self.args.concurrency
        if system == "tandem":
            if celery:
                return Tandem(self.dags(system, kind), executor="celery", broker="redis", parallelism=p,
                              concurrency=c)
            return Tandem(self.dags(system, kind), parallelism=p)
        executor = "CeleryExecutor" if celery else "LocalExecutor"
        return Airflow(Path(self.args.airflow_venv), self.dags(system, kind), executor=executor, parallelism=p,
                       concurrency=c)

    def section(self, section: str, system: str) -> dict[str, Any]:
        print(f"  {section} on {system} ...", file=sys.stderr)
        if section == "standalone":
            if system == "tandem":
                return tandem_standalone(self.args.parallelism)
            return airflow_standalone(Path(self.args.airflow_venv), self.dags(system, "empty"),
                                      self.args.parallelism)
        s = self.make(system, "many" if section == "many" else "celery" if section == "celery" else "runs",
                      celery=section == "celery")
        try:
            if section == "many":
                return measure_many(s, self.many)
            s.start()  # type: ignore[attr-defined]
            fanouts, mapped = ([200], []) if section == "celery" else (self.fanouts, self.mapped)
            return measure_runs(s, fanouts, mapped)
        finally:
            s.stop()

    def run(self) -> dict[str, Any]:
        repeats = 1 if self.args.quick else self.args.repeats
        sections = [s for s in SECTIONS if s in self.args.only.split(",")]
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {s: {n: [] for n in self.systems} for s in sections}
        for r in range(repeats):
            order = self.systems if r % 2 == 0 else self.systems[::-1]
            print(f"repeat {r + 1}/{repeats}", file=sys.stderr)
            for section in sections:
                for system in order:
                    try:
                        runs[section][system].append(self.section(section, system))
                    except Exception as e:  # noqa: BLE001 - one failed shape must not lose the others
                        print(f"  {section} on {system} failed: {e}", file=sys.stderr)
                        runs[section][system].append({"error": str(e)})
        shutil.rmtree(self.tmp, ignore_errors=True)
        return {"when": datetime.now(UTC).isoformat(), "quick": self.args.quick, "repeats": repeats,
                "parallelism": self.args.parallelism, "concurrency": self.args.concurrency,
                "fanouts": self.fanouts, "mapped": self.mapped, "many": self.many, "runs": runs}


def figures(results: dict[str, Any]) -> list[tuple[str, str, Callable[[dict[str, Any]], float], bool]]:
    """(section, label, getter, higher is better) for every line of the table."""
    lines: list[tuple[str, str, Callable[[dict[str, Any]], float], bool]] = [
        ("local", "local chain of 30: hop median ms", lambda r: r["chain"]["hop_median_ms"], False),
        ("local", "local chain of 30: hop p95 ms", lambda r: r["chain"]["hop_p95_ms"], False),
    ]
    for n in results["fanouts"]:
        lines.append(("local", f"local fan-out {n}: tasks/s", lambda r, n=n: r[f"fanout_{n}"]["tasks_per_s"], True))
    for n in results["mapped"]:
        lines.append(("local", f"local mapped x {n}: tasks/s", lambda r, n=n: r[f"mapped_{n}"]["tasks_per_s"], True))
    lines += [
        ("celery", "Celery+Redis chain: hop median ms", lambda r: r["chain"]["hop_median_ms"], False),
        ("celery", "Celery+Redis fan-out 200: tasks/s", lambda r: r["fanout_200"]["tasks_per_s"], True),
        ("many", f"{results['many']} DAGs x 5: parse all s", lambda r: r["parse_s"], False),
        ("many", f"{results['many']} DAGs x 5: tasks/s", lambda r: r["tasks_per_s"], True),
        ("many", f"{results['many']} DAGs x 5: idle CPU % of a core", lambda r: r["idle_cpu_pct"], False),
        ("standalone", "standalone start -> health s", lambda r: r["start_to_health_s"], False),
        ("standalone", "standalone start: CPU s until health", lambda r: r["start_cpu_s"], False),
        ("standalone", "standalone idle PSS MB", lambda r: r["idle_pss_mb"], False),
        ("standalone", "standalone idle CPU % of a core", lambda r: r["idle_cpu_pct"], False),
    ]
    return lines


def median_of(rows: list[dict[str, Any]], get: Callable[[dict[str, Any]], float]) -> float | None:
    values = []
    for row in rows:
        try:
            values.append(float(get(row)))
        except (KeyError, TypeError):
            pass
    return statistics.median(values) if values else None


def print_table(results: dict[str, Any]) -> None:
    runs = results["runs"]
    both = any("airflow" in per for per in runs.values())
    print(f"\n{'figure (median of ' + str(results['repeats']) + ')':<44}{'Tandem':>12}"
          + (f"{'Airflow':>12}{'Tandem is':>14}" if both else ""))
    for section, label, get, higher in figures(results):
        if section not in runs:
            continue
        ours = median_of(runs[section]["tandem"], get)
        line = f"{label:<44}{'-' if ours is None else f'{ours:.2f}':>12}"
        if both:
            theirs = median_of(runs[section].get("airflow", []), get)
            ratio = ""
            if ours and theirs:
                factor = ours / theirs if higher else theirs / ours
                ratio = f"{factor:.1f}x " + ("better" if factor >= 1 else "worse")
            line += f"{'-' if theirs is None else f'{theirs:.2f}':>12}{ratio:>14}"
        print(line)
    bad = [f"{s}/{n}" for s, per in runs.items() for n, rows in per.items()
           if any("error" in r or any(isinstance(v, dict) and not v.get("ok", True) for v in r.values())
                  or r.get("ok") is False for r in rows)]
    if bad:
        print(f"\nWARNING: failed or unsuccessful runs in {', '.join(bad)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--airflow-venv", metavar="PATH", help="a venv with Apache Airflow (anchor's install.sh)")
    parser.add_argument("--quick", action="store_true", help="one repeat, smaller shapes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parallelism", type=int, default=16, help="core.parallelism of both")
    parser.add_argument("--concurrency", type=int, default=4, help="Celery worker concurrency of both")
    parser.add_argument("--many", type=int, default=0, help="DAG files of the many-DAGs shape (default 1,000)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"sections, of {','.join(SECTIONS)}")
    args = parser.parse_args()
    if args.airflow_venv and not (Path(args.airflow_venv) / "bin" / "airflow").exists():
        parser.error(f"no bin/airflow in {args.airflow_venv}")
    results = Bench(args).run()
    print_table(results)
    write_results("compare", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
