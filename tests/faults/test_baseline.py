"""The harness itself: with no fault, a two-scheduler cluster runs every run once and the
invariant checker finds nothing (so that a violation elsewhere is the fault's doing)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faults.harness import FaultCluster, check_invariants
from tests.faults.harness.dags import work_dag

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(120)]


def test_no_fault_no_violation(pg_url: str, make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers and six runs of a six-task DAG
    cluster = make_cluster(db_url=pg_url)
    cluster.write_dag("work", work_dag(cluster.side, "work", sleep=0.3))
    cluster.scheduler()
    cluster.scheduler()
    cluster.wait_dags("work")
    cluster.trigger("work", 6)
    # When they settle
    settle = cluster.settle(60)
    # Then nothing is violated, and nothing was retried
    report = check_invariants(cluster, settle_seconds=settle, no_retries=True)
    assert settle is not None and not report.violations, report.explain()
    assert report.runs == {"success": 6} and report.tries == 36, report.explain()
