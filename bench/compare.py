"""Tandem beside Apache Airflow: the same shapes, runs alternated, one table with ratios.

usage: python bench/compare.py [--airflow-venv PATH] [--quick] [--repeats N] [--parallelism N]
                               [--run-timeout S] [--only local,celery,many,standalone]

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

Figures count only the tries that ran (success, failed or up_for_retry, with a start and an end
date): Airflow sets some task instances' state without running them, with no start_date (a try
failed from an executor event before it started; the unexpanded mapped task whose upstream failed,
``upstream_failed``) or with start = end (``upstream_failed`` from trigger rules). A shape whose run did not
finish within ``--run-timeout`` or had a try that did not succeed shows as ``failed`` in the table,
with the reason and what was measured anyway listed under it; the other shapes are unaffected. A
SIGTERM (``timeout``) or Ctrl-C stops the current shape and still prints what was measured.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import shapes  # noqa: E402
from core_bench import percentile, write_results  # noqa: E402
from systems import (  # noqa: E402
    Airflow,
    RunNotFinished,
    System,
    Tandem,
    airflow_standalone,
    cpu_percent,
    tandem_standalone,
)

SECTIONS = ("local", "celery", "many", "standalone")


class ShapeFailed(Exception):
    """A shape with nothing to measure: no try ran, or no two consecutive ones."""


class Interrupted(BaseException):
    """SIGTERM: stop the current shape, then print what was measured."""


def seconds(a: Any, b: Any) -> float:
    return float((b - a).total_seconds())


# The states a try that ran ends in. Both systems' schedulers set other states without running the try:
# upstream_failed and skipped, with start_date = end_date = the moment they decided (Airflow's trigger
# rules) or with no dates at all (Airflow's unexpanded mapped task).
RAN = frozenset({"success", "failed", "up_for_retry"})


def has_run(ti: Any) -> bool:
    """Whether a try ran: it ended in a state of ``RAN`` and has both dates (a try Airflow fails from an
    executor event before it started, such as one whose supervisor cannot reach the Execution API,
    has no start_date)."""
    return str(ti.state) in RAN and ti.start_date is not None and ti.end_date is not None


def states(tis: list[Any]) -> str:
    """``"198 success, 2 upstream_failed"``: the task instances of a run by state."""
    counts = Counter(str(ti.state) for ti in tis)
    return ", ".join(f"{n} {state}" for state, n in counts.most_common()) or "no task instances"


def outcome(tis: list[Any]) -> dict[str, Any]:
    """``ok`` if every task instance succeeded; otherwise an ``error`` that says how many did what."""
    if tis and all(ti.state == "success" for ti in tis):
        return {"ok": True}
    return {"ok": False, "error": f"not every task instance succeeded: {states(tis)}"}


def chain_figures(tis: list[Any]) -> dict[str, Any]:
    """Hop latency (end of one task -> start of the next) over the consecutive pairs that both ran."""
    hops = [seconds(a.end_date, b.start_date) * 1000 for a, b in itertools.pairwise(tis) if has_run(a) and has_run(b)]
    if not hops:
        raise ShapeFailed(f"no two consecutive tasks of the chain ran ({states(tis)})")
    return {**outcome(tis), "hops": len(hops), "hop_median_ms": round(statistics.median(hops), 1),
            "hop_p95_ms": round(percentile(hops, 0.95), 1)}


def throughput(tis: list[Any]) -> dict[str, Any]:
    """Tries that ran per second, from the first start to the last end among them."""
    done = [ti for ti in tis if has_run(ti)]
    if not done:
        raise ShapeFailed(f"no task instance ran ({states(tis)})")
    span = seconds(min(ti.start_date for ti in done), max(ti.end_date for ti in done))
    return {**outcome(tis), "tasks": len(done), "of": len(tis),
            "tasks_per_s": round(len(done) / span, 2) if span > 0 else 0.0}


def guarded(measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One shape's figures, or ``{"ok": False, "error": ...}``: a failing shape must not lose the others."""
    try:
        return measure()
    except Exception as e:  # noqa: BLE001 - reported in the table's notes
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


def run_shape(system: System, dag_id: str, figures_of: Callable[[list[Any]], dict[str, Any]],
              timeout: float) -> dict[str, Any]:
    """Run ``dag_id`` once and measure it; a run that did not finish keeps what its finished tries show."""
    try:
        tis = system.run(dag_id, timeout)
    except RunNotFinished as e:
        unfinished = e.tis
        partial = guarded(lambda: figures_of(unfinished))
        return {**partial, "ok": False, "error": f"{e} ({states(unfinished)})", "partial": True}
    return figures_of(tis)


def measure_runs(system: System, fanouts: list[int], mapped: list[int], timeout: float,
                 out: dict[str, Any]) -> dict[str, Any]:
    """The triggered shapes, one after the other, into ``out`` (kept if the bench is interrupted)."""
    dag_ids = [shapes.chain_id(), *map(shapes.fanout_id, fanouts), *map(shapes.mapped_id, mapped)]
    system.wait_parsed(*dag_ids)
    # Warm-up: runners import the DAG once. Its failure shows in the measured chain.
    guarded(lambda: {"tis": system.run(shapes.chain_id(), timeout)})
    out["chain"] = guarded(lambda: run_shape(system, shapes.chain_id(), chain_figures, timeout))
    for n in fanouts:
        out[f"fanout_{n}"] = guarded(functools.partial(run_shape, system, shapes.fanout_id(n), throughput, timeout))
    for n in mapped:
        out[f"mapped_{n}"] = guarded(functools.partial(run_shape, system, shapes.mapped_id(n), throughput, timeout))
    return out


def measure_many(system: System, count: int, timeout: float) -> dict[str, Any]:
    t0 = system.start()  # type: ignore[attr-defined]
    where = "dag_id like 'cmp_many_%'"
    system.wait(f"select count(*) >= {count} from serialized_dag where {where}", "parsing", 1800)
    parsed = time.monotonic() - t0
    error = None
    try:
        system.wait(f"select count(*) >= {count} from dag_run where {where} and state in ('success', 'failed')",
                    "the runs", timeout)
    except TimeoutError as e:
        error = str(e)
    tis = system.query(f"select task_id, state, start_date, end_date from task_instance where {where}")
    figures = {"parse_s": round(parsed, 1), **guarded(lambda: throughput(tis))}
    if error is not None:
        return {**figures, "ok": False, "error": f"{error} ({states(tis)})", "partial": True}
    time.sleep(5)
    return {**figures, "idle_cpu_pct": cpu_percent(system.pids, 20)}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="tandem-compare-"))
        quick = args.quick
        self.fanouts = [200, 1000] if quick else [200, 1000, 5000]
        self.mapped = [1000] if quick else [10000]
        self.many = args.many or (200 if quick else 1000)
        self.systems = ["tandem"] + (["airflow"] if args.airflow_venv else [])
        self.measured: dict[str, Any] = {}  # the shapes of the section being measured

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
        """``{shape: figures}`` of one section on one system."""
        print(f"  {section} on {system} ...", file=sys.stderr)
        timeout = self.args.run_timeout
        self.measured = {}
        if section == "standalone":
            if system == "tandem":
                return {"standalone": {"ok": True, **tandem_standalone(self.args.parallelism)}}
            figures = airflow_standalone(Path(self.args.airflow_venv), self.dags(system, "empty"),
                                         self.args.parallelism)
            return {"standalone": {"ok": True, **figures}}
        s = self.make(system, "many" if section == "many" else "celery" if section == "celery" else "runs",
                      celery=section == "celery")
        try:
            if section == "many":
                return {"many": measure_many(s, self.many, timeout)}
            s.start()  # type: ignore[attr-defined]
            fanouts, mapped = ([200], []) if section == "celery" else (self.fanouts, self.mapped)
            return measure_runs(s, fanouts, mapped, timeout, self.measured)
        finally:
            s.stop()

    def run(self) -> dict[str, Any]:
        repeats = 1 if self.args.quick else self.args.repeats
        sections = [s for s in SECTIONS if s in self.args.only.split(",")]
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {s: {n: [] for n in self.systems} for s in sections}
        interrupted = False
        for r in range(repeats):
            order = self.systems if r % 2 == 0 else self.systems[::-1]
            print(f"repeat {r + 1}/{repeats}", file=sys.stderr)
            for section, system in itertools.product(sections, order):
                if interrupted:
                    break
                t0 = time.monotonic()
                try:
                    result = self.section(section, system)
                except (Interrupted, KeyboardInterrupt):
                    interrupted = True
                    # The shapes measured so far count; the note says the rest was not.
                    result = {**self.measured, "interrupted": {"ok": False, "error": "interrupted before it finished"}}
                except Exception as e:  # noqa: BLE001 - one failed section must not lose the others
                    result = {"error": f"{type(e).__name__}: {e}"}
                for shape, figures in [("", result), *result.items()]:
                    if isinstance(figures, dict) and "error" in figures:
                        print(f"  {section} on {system}{' ' + shape if shape else ''} failed: {figures['error']}",
                              file=sys.stderr)
                print(f"  {section} on {system}: {time.monotonic() - t0:.0f} s", file=sys.stderr)
                runs[section][system].append(result)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return {"when": datetime.now(UTC).isoformat(), "quick": self.args.quick, "repeats": repeats,
                "parallelism": self.args.parallelism, "concurrency": self.args.concurrency,
                "run_timeout": self.args.run_timeout, "interrupted": interrupted,
                "fanouts": self.fanouts, "mapped": self.mapped, "many": self.many, "runs": runs}


def figures(results: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    """(section, shape, field, label, higher is better) for every line of the table."""
    many = results["many"]
    lines = [
        ("local", "chain", "hop_median_ms", "local chain of 30: hop median ms", False),
        ("local", "chain", "hop_p95_ms", "local chain of 30: hop p95 ms", False),
    ]
    lines += [("local", f"fanout_{n}", "tasks_per_s", f"local fan-out {n}: tasks/s", True)
              for n in results["fanouts"]]
    lines += [("local", f"mapped_{n}", "tasks_per_s", f"local mapped x {n}: tasks/s", True)
              for n in results["mapped"]]
    lines += [
        ("celery", "chain", "hop_median_ms", "Celery+Redis chain: hop median ms", False),
        ("celery", "fanout_200", "tasks_per_s", "Celery+Redis fan-out 200: tasks/s", True),
        ("many", "many", "parse_s", f"{many} DAGs x 5: parse all s", False),
        ("many", "many", "tasks_per_s", f"{many} DAGs x 5: tasks/s", True),
        ("many", "many", "idle_cpu_pct", f"{many} DAGs x 5: idle CPU % of a core", False),
        ("standalone", "standalone", "start_to_health_s", "standalone start -> health s", False),
        ("standalone", "standalone", "start_cpu_s", "standalone start: CPU s until health", False),
        ("standalone", "standalone", "idle_pss_mb", "standalone idle PSS MB", False),
        ("standalone", "standalone", "idle_cpu_pct", "standalone idle CPU % of a core", False),
    ]
    return lines


def median_of(rows: list[dict[str, Any]], shape: str, field: str) -> float | str | None:
    """The median over the repeats in which the shape succeeded; ``"failed"`` if it never did, None if not run."""
    values, failed = [], False
    for row in rows:
        figures = row.get(shape)
        if not isinstance(figures, dict) or "error" in row:
            failed = failed or "error" in row
            continue
        if figures.get("ok") and isinstance(figures.get(field), int | float):
            values.append(float(figures[field]))
        else:
            failed = True
    if values:
        return statistics.median(values)
    return "failed" if failed else None


def cell(value: float | str | None) -> str:
    return "-" if value is None else value if isinstance(value, str) else f"{value:.2f}"


def failures(runs: dict[str, dict[str, list[dict[str, Any]]]]) -> list[str]:
    """One line per failed section or shape: where, why, and what it measured anyway."""
    lines = []
    for section, per in runs.items():
        for system, rows in per.items():
            for i, row in enumerate(rows):
                where = f"{system} {section}" + (f" (repeat {i + 1})" if len(rows) > 1 else "")
                if "error" in row:
                    lines.append(f"{where}: {row['error']}")
                    continue
                for shape, f in row.items():
                    if isinstance(f, dict) and "error" in f:
                        got = {k: v for k, v in f.items() if k not in ("ok", "error", "partial")}
                        lines.append(f"{where} {shape}: {f['error']}" + (f"; measured anyway: {got}" if got else ""))
    return lines


def print_table(results: dict[str, Any]) -> None:
    runs = results["runs"]
    both = any("airflow" in per for per in runs.values())
    print(f"\n{'figure (median of ' + str(results['repeats']) + ')':<44}{'Tandem':>12}"
          + (f"{'Airflow':>12}{'Tandem is':>14}" if both else ""))
    for section, shape, field, label, higher in figures(results):
        if section not in runs:
            continue
        ours = median_of(runs[section]["tandem"], shape, field)
        line = f"{label:<44}{cell(ours):>12}"
        if both:
            theirs = median_of(runs[section].get("airflow", []), shape, field)
            ratio = ""
            if isinstance(ours, float) and isinstance(theirs, float) and ours and theirs:
                factor = ours / theirs if higher else theirs / ours
                ratio = f"{factor:.1f}x " + ("better" if factor >= 1 else "worse")
            line += f"{cell(theirs):>12}{ratio:>14}"
        print(line)
    notes = failures(runs)
    if notes:
        print("\nFailed (not in the medians above):")
        for note in notes:
            print(f"  {note}")
    if results.get("interrupted"):
        print("\nINTERRUPTED: the sections after the interruption were not run.")


def on_sigterm(signum: int, frame: Any) -> None:
    raise Interrupted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--airflow-venv", metavar="PATH", help="a venv with Apache Airflow (anchor's install.sh)")
    parser.add_argument("--quick", action="store_true", help="one repeat, smaller shapes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parallelism", type=int, default=16, help="core.parallelism of both")
    parser.add_argument("--concurrency", type=int, default=4, help="Celery worker concurrency of both")
    parser.add_argument("--run-timeout", type=float, default=1800, metavar="S",
                        help="seconds one DAG run may take before its shape is reported failed")
    parser.add_argument("--many", type=int, default=0, help="DAG files of the many-DAGs shape (default 1,000)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"sections, of {','.join(SECTIONS)}")
    args = parser.parse_args()
    if args.airflow_venv and not (Path(args.airflow_venv) / "bin" / "airflow").exists():
        parser.error(f"no bin/airflow in {args.airflow_venv}")
    signal.signal(signal.SIGTERM, on_sigterm)
    results = Bench(args).run()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    print_table(results)
    write_results("compare", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
