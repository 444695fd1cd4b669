"""The invariants every fault test asserts once the cluster has settled (issue 8, "Proof").

- every run ended (success or failed);
- each try's body started at most once per try number (the side file);
- no task instance is left scheduled, queued, running or up for retry, and none sits in
  ``none`` in a run that ended (a clear lost to a race);
- no scheduler or worker exited unless told to, none logged a crash, and each one still alive
  works under a live node row (a node declared dead must be fenced and re-register);
- optionally, no needless retry: with tasks that never fail by themselves, a try number above
  1 means an outcome was dropped or a healthy try was reaped.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.faults.harness.cluster import FaultCluster

# Uncaught exceptions: a thread or a multiprocessing child died of one. (A main loop that dies
# ends the process, which ``process_alive`` catches; tracebacks inside log records are handled.)
CRASH_PATTERNS = [
    re.compile(r"^Exception in thread .*$", re.MULTILINE),
    re.compile(r"^Process [\w-]+:\s*$", re.MULTILINE),
]


@dataclass
class Violation:
    invariant: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.detail}"


@dataclass
class Report:
    runs: dict[str, int] = field(default_factory=dict)
    task_instances: dict[str, int] = field(default_factory=dict)
    tries: int = 0
    retried: int = 0
    bodies_twice: int = 0
    stuck: int = 0
    settle_seconds: float | None = None
    violations: list[Violation] = field(default_factory=list)

    def add(self, invariant: str, detail: str) -> None:
        self.violations.append(Violation(invariant, detail))

    def summary(self) -> dict[str, Any]:
        return {"runs": self.runs, "task_instances": self.task_instances, "tries": self.tries,
                "retried": self.retried, "bodies_twice": self.bodies_twice, "stuck": self.stuck,
                "settle_s": self.settle_seconds, "violations": len(self.violations)}

    def explain(self) -> str:
        return "\n".join([f"figures: {self.summary()}", *(str(v) for v in self.violations)])


def side_starts(cluster: FaultCluster) -> Counter[tuple[str, str, str, int, int]]:
    starts: Counter[tuple[str, str, str, int, int]] = Counter()
    for line in cluster.side.read_text().splitlines():
        parts = line.split()
        if len(parts) == 7:
            starts[(parts[0], parts[1], parts[2], int(parts[3]), int(parts[4]))] += 1
    return starts


def crash_evidence(log: str) -> list[str]:
    """Lines of a process log that show an uncaught exception (a thread or a child died)."""
    found = []
    for pattern in CRASH_PATTERNS:
        for m in pattern.finditer(log):
            tail = log[m.end():m.end() + 4000].splitlines()
            error = next((t for t in tail[1:] if t and not t.startswith((" ", "Traceback"))), "")
            found.append(f"{m.group(0).strip()} {error}")
    return found


def check_invariants(cluster: FaultCluster, *, settle_seconds: float | None = None,
                     no_retries: bool = False, expect_success: bool = True,
                     node_timeout: float = 5.0) -> Report:
    report = Report(settle_seconds=settle_seconds)
    q = cluster.query
    report.runs = {r[0]: int(r[1]) for r in q("select state, count(*) from dag_run group by state")}
    report.task_instances = {str(r[0]): int(r[1]) for r in
                             q("select coalesce(state, 'none'), count(*) from task_instance group by state")}

    # Every run ended.
    unended = q("select dag_id, run_id, state from dag_run where state not in ('success','failed')")
    for r in unended[:10]:
        report.add("run_ended", f"run {r.dag_id}/{r.run_id} is {r.state}")
    if expect_success:
        for r in q("select dag_id, run_id from dag_run where state='failed'")[:10]:
            report.add("run_succeeded", f"run {r.dag_id}/{r.run_id} failed")

    # No task instance stuck.
    stuck = q("select dag_id, run_id, task_id, state, try_number from task_instance "
              "where state in ('scheduled','queued','running','up_for_retry')")
    stranded = q("select ti.dag_id, ti.run_id, ti.task_id, coalesce(ti.state, 'none') as state, ti.try_number "
                 "from task_instance ti join dag_run r on r.dag_id=ti.dag_id and r.run_id=ti.run_id "
                 "where r.state in ('success','failed') and (ti.state is null or ti.state='none')")
    report.stuck = len(stuck) + len(stranded)
    for r in [*stuck, *stranded][:10]:
        report.add("no_stuck_ti", f"{r.dag_id}/{r.run_id}/{r.task_id} try {r.try_number} is {r.state}")

    # Each try's body started at most once.
    starts = side_starts(cluster)
    twice = {k: n for k, n in starts.items() if n > 1}
    report.bodies_twice = len(twice)
    for k, n in list(twice.items())[:10]:
        report.add("body_once_per_try", f"{'/'.join(map(str, k[:4]))} try {k[4]} started {n} times")
    tries = q("select dag_id, run_id, task_id, map_index, try_number, state from task_try")
    report.tries = len(tries)
    report.retried = sum(1 for t in tries if t.try_number > 1)
    if no_retries:
        for t in [t for t in tries if t.try_number > 1][:10]:
            report.add("no_needless_retry", f"{t.dag_id}/{t.run_id}/{t.task_id} reached try {t.try_number}")

    # No process exited unless told, none crashed, each live one is a live node.
    for node in cluster.nodes:
        log = node.log()
        code = node.proc.poll()
        if code is not None and not node.stopped_on_purpose:
            report.add("process_alive", f"{node.name} exited with {code}; log tail: {log[-1500:]!r}")
        for line in crash_evidence(log)[:3]:
            report.add("no_crash", f"{node.name}: {line}")
        if code is None and not node.stopped_on_purpose:
            # A node just resumed learns it was fenced at its next heartbeat: give it that long.
            age = "extract(epoch from now() - last_heartbeat) as age"
            deadline = time.monotonic() + node_timeout * 2
            while True:
                rows = (q(f"select state, {age} from node where role='scheduler' and pid=:p", p=node.pid)
                        if node.role == "scheduler" else
                        q(f"select state, {age} from node where role='worker' and hostname=:h", h=node.hostname))
                if any(r.state == "running" and float(r.age) < node_timeout * 2 for r in rows):
                    break
                if time.monotonic() >= deadline:
                    report.add("node_fenced_or_live", f"{node.name} (pid {node.pid}) works on under node rows "
                               f"{[(r.state, round(float(r.age), 1)) for r in rows]}")
                    break
                time.sleep(0.5)
    return report
