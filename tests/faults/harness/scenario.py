"""Steps shared by the scenarios: start a cluster with work in flight, wait for a moment worth
aiming a fault at, then settle and check the invariants."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.faults.harness.cluster import FaultCluster, NodeProc
from tests.faults.harness.dags import work_dag
from tests.faults.harness.invariants import Report, check_invariants


def start_work(cluster: FaultCluster, *, schedulers: int = 2, runs: int = 6, sleep: float = 1.0,
               width: int = 4, dag_id: str = "work", workers: int = 0,
               scheduler_env: dict[int, dict[str, str]] | None = None, **dag: object) -> list[str]:
    """Start ``schedulers`` (and Celery ``workers``), write the work DAG and trigger ``runs``."""
    cluster.write_dag(dag_id, work_dag(cluster.side, dag_id, sleep=sleep, width=width, **dag))  # type: ignore[arg-type]
    for i in range(schedulers):
        cluster.scheduler(env=(scheduler_env or {}).get(i))
    for i in range(workers):
        cluster.worker(f"worker{i}", concurrency=3)
    cluster.wait_dags(dag_id)
    return cluster.trigger(dag_id, runs)


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {predicate}")


def running_try(cluster: FaultCluster, role: str = "scheduler") -> tuple[NodeProc, int] | None:
    """A node of ``role`` with a try running right now, and the try's pid."""
    rows = cluster.query("select ti.pid, n.pid as node_pid, n.hostname from task_instance ti "
                         "join node n on n.id = ti.node_id where ti.state='running' and n.role=:r", r=role)
    for r in rows:
        for node in cluster.nodes:
            if node.role == role and (node.pid == r.node_pid if role == "scheduler" else node.hostname == r.hostname):
                return node, int(r.pid or 0)
    return None


def finish(cluster: FaultCluster, *, settle_timeout: float = 90, no_retries: bool = False,
           expect_success: bool = True) -> Report:
    """Wait for the cluster to settle (bounded), then check every invariant."""
    settle = cluster.settle(settle_timeout)
    return check_invariants(cluster, settle_seconds=settle, no_retries=no_retries, expect_success=expect_success)


def starts_between(cluster: FaultCluster, t0: float, t1: float) -> int:
    """Try bodies that started between wall-clock times ``t0`` and ``t1``."""
    count = 0
    for line in cluster.side.read_text().splitlines():
        parts = line.split()
        if len(parts) == 7 and t0 <= float(parts[6]) <= t1:
            count += 1
    return count
