"""SIGSTOP/SIGCONT past every timeout: a scheduler (at a random moment, and while it holds the
queuing lock), a local-executor supervisor whose tries just started, and a Celery worker.

A paused node is declared dead by its peers; when it resumes it must be fenced (learn it on
its next heartbeat, stop acting on its old view, re-register or exit), and whatever it writes
late must lose its compare-and-set. Meanwhile the others keep the cluster moving.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psutil
import pytest

from tests.faults.harness import FaultCluster, paused, supervisor_of
from tests.faults.harness.cluster import pause, resume
from tests.faults.harness.scenario import finish, running_try, start_work, starts_between, wait_until
from tests.integration.celery.support import drop_redis_namespace, redis_broker

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(180)]

PAUSE = 15.0  # > 2 x node_timeout (5 s) and > zombie_threshold (6 s)


@pytest.mark.parametrize("moment", [
    pytest.param("random"),
    pytest.param("holding_queue_lock"),
])
def test_scheduler_paused_past_node_timeout(moment: str, pg_url: str,
                                            make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers with runs in flight
    cluster = make_cluster(db_url=pg_url)
    start_work(cluster, schedulers=2, runs=16, sleep=2.0)  # work left for the whole pause
    wait_until(lambda: cluster.progress() >= 3, 60)
    victim = cluster.schedulers()[0]
    # When one is frozen (aimed: at a moment it holds the queuing lock) for 3 x node_timeout
    if moment == "holding_queue_lock":
        victim = _pause_lock_holder(cluster)
    else:
        pause(victim.pid)
    victim.paused = True
    t0 = time.time()
    try:
        time.sleep(PAUSE)
    finally:
        resume(victim.pid)
        victim.paused = False
    # Then the peer kept starting tries during the pause (after a few seconds' grace)
    started = starts_between(cluster, t0 + 6, t0 + PAUSE)
    # ... and once resumed, everything settles with every invariant holding
    report = finish(cluster, settle_timeout=90)
    assert started > 0, f"no try started while {victim.name} was frozen\n{report.explain()}"
    assert not report.violations, report.explain()


def _pause_lock_holder(cluster: FaultCluster, timeout: float = 60) -> object:
    """SIGSTOP whichever scheduler holds the critical-section lock row, caught in the act.

    The lock is held for milliseconds: the map from connection port to node is built ahead (a
    node's pooled connections keep their ports), so one query per poll finds the holder's port.
    """
    sql = ("select a.client_port from pg_locks l join pg_class c on c.oid = l.relation "
           "join pg_stat_activity a on a.pid = l.pid "
           "where c.relname = 'tandem_lock' and l.mode = 'RowShareLock' and l.pid <> pg_backend_pid()")
    ports: dict[int, object] = {}
    deadline = time.monotonic() + timeout
    refreshed = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() - refreshed > 2:
            ports = _node_ports(cluster)
            refreshed = time.monotonic()
        for (port,) in cluster.query(sql):
            node = ports.get(port)
            if node is None:
                continue
            pause(node.pid)  # type: ignore[attr-defined]
            if any(r[0] == port for r in cluster.query(sql)):
                return node
            resume(node.pid)  # type: ignore[attr-defined]
        time.sleep(0.002)
    pytest.fail("never caught a scheduler holding the queuing lock")


def _node_ports(cluster: FaultCluster) -> dict[int, object]:
    """Local TCP ports of every scheduler's connections (and its children's), by port."""
    ports: dict[int, object] = {}
    for node in cluster.schedulers():
        try:
            procs = [psutil.Process(node.pid), *psutil.Process(node.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            try:
                ports.update({c.laddr.port: node for c in proc.net_connections("tcp") if c.laddr})
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    return ports


def test_local_supervisor_paused_past_every_timeout(pg_url: str,
                                                    make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers (local executor) with runs in flight
    cluster = make_cluster(db_url=pg_url)
    start_work(cluster, schedulers=2, runs=6, sleep=3.0)
    # When the supervisor of a try that has just started is frozen past queued_timeout (20 s)
    found = wait_until(lambda: running_try(cluster), 60, interval=0.05)
    node, try_pid = found  # type: ignore[misc]
    sup = supervisor_of(node, try_pid)
    assert sup is not None, f"no supervisor found for try pid {try_pid}"
    with paused(node, 25, pid=sup):
        pass
    # Then everything settles with every invariant holding
    report = finish(cluster, settle_timeout=90)
    assert not report.violations, report.explain()


@pytest.fixture
def redis_namespace() -> Iterator[tuple[str, dict[str, object]]]:
    broker = redis_broker()
    try:
        yield broker.url, broker.extra
    finally:
        drop_redis_namespace(broker)


@pytest.mark.redis
def test_celery_worker_paused_past_every_timeout(pg_url: str, redis_namespace: tuple[str, dict[str, object]],
                                                 make_cluster: Callable[..., FaultCluster]) -> None:
    # Given a scheduler and two Celery workers with runs in flight
    url, extra = redis_namespace
    cluster = make_cluster(db_url=pg_url, executor="celery", broker_url=url, broker_extra=extra)
    start_work(cluster, schedulers=1, workers=2, runs=6, sleep=3.0)
    # When a worker with a running try is frozen, with its tries, past queued_timeout (20 s)
    found = wait_until(lambda: running_try(cluster, role="worker"), 60, interval=0.05)
    node, _ = found  # type: ignore[misc]
    with paused(node, 25, group=True):
        pass
    # Then everything settles with every invariant holding
    report = finish(cluster, settle_timeout=120)
    assert not report.violations, report.explain()
