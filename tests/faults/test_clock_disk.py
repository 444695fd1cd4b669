"""Clock skew of +/-10 min on one of two schedulers (Debian's faketime), and a full disk under
the log folder (a task printing 10 MB onto a 2 MB volume)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faults.harness import FaultCluster, SmallVolume, Unavailable, faketime_env
from tests.faults.harness.dags import chatty_dag
from tests.faults.harness.scenario import finish, start_work
from tests.fixtures.services import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(180)]


@pytest.mark.parametrize("offset", [
    pytest.param("+10m"),
    pytest.param("-10m"),
])
def test_one_scheduler_ten_minutes_off(offset: str, pg_url: str, make_cluster: Callable[..., FaultCluster]) -> None:
    try:
        skew = faketime_env(offset)
    except Unavailable as e:
        unavailable(str(e))
    # Given two schedulers, the second one's clock 10 minutes off, running tries of 3 s
    cluster = make_cluster(db_url=pg_url)
    start_work(cluster, schedulers=2, runs=8, sleep=3.0, scheduler_env={1: skew})
    # When they work together until the runs end
    report = finish(cluster, settle_timeout=120, no_retries=True)
    # Then no healthy try was reaped, no healthy peer declared dead, nothing else broke
    assert report.settle_seconds is not None, report.explain()
    assert not report.violations, report.explain()


def test_full_log_disk(pg_url: str, small_volume: SmallVolume,
                       make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers whose task logs go to a 2 MB volume
    cluster = make_cluster(db_url=pg_url, env={"TANDEM__LOGGING__BASE_LOG_FOLDER": str(small_volume.path)})
    cluster.write_dag("chatty", chatty_dag(cluster.side, "chatty", megabytes=10))
    start_work(cluster, schedulers=2, runs=4, sleep=0.5)
    cluster.wait_dags("chatty")
    # When a task prints 10 MB (twice over) while other runs execute
    chatty = cluster.trigger("chatty", 2)
    more = cluster.trigger("work", 2)
    # Then every run ends, the work runs succeed, and no scheduler fell over
    report = finish(cluster, settle_timeout=90, expect_success=False)
    failed = {r.run_id for r in cluster.query("select run_id from dag_run where state='failed'")}
    assert not failed - set(chatty), f"runs failed beside the chatty ones: {failed - set(chatty)}\n{report.explain()}"
    assert report.settle_seconds is not None, report.explain()
    assert not report.violations, report.explain()
    assert more
