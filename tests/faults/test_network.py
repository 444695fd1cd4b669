"""A TCP proxy between the nodes and the metadata DB (and the broker) resets every connection or
turns into a black hole for 20 s, while runs execute. The observer reaches the DB directly."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tests.faults.harness import FaultCluster, PrivateRedis, TcpProxy
from tests.faults.harness.scenario import finish, start_work, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(180)]

OUTAGE = 20.0


def through(proxy: TcpProxy, url: str) -> str:
    return sa.engine.make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


@pytest.mark.parametrize("mode", [
    pytest.param("reset"),
    pytest.param("blackhole"),
])
def test_db_connection_reset_or_black_hole(mode: str, pg_url: str, proxies: Callable[[str, int], TcpProxy],
                                           make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers reaching the DB through a proxy, with runs in flight
    url = sa.engine.make_url(pg_url)
    proxy = proxies(url.host or "127.0.0.1", url.port or 5432)
    cluster = make_cluster(db_url=pg_url, node_db_url=through(proxy, pg_url))
    start_work(cluster, schedulers=2, runs=8, sleep=1.0)
    wait_until(lambda: cluster.progress() >= 3, 60)
    # When the path to the DB resets every connection, or swallows everything, for 20 s
    with proxy.fault(mode, OUTAGE):  # type: ignore[arg-type]
        pass
    resumed = time.monotonic()
    # Then the cluster settles within a minute, and no outcome was lost (tasks never fail by themselves)
    report = finish(cluster, settle_timeout=60, no_retries=True)
    assert report.settle_seconds is not None, f"not settled {time.monotonic() - resumed:.0f} s after\n{report.explain()}"
    assert not report.violations, report.explain()


@pytest.mark.redis
@pytest.mark.parametrize("mode", ["reset", "blackhole"])
def test_broker_connection_reset_or_black_hole(mode: str, pg_url: str, private_redis: PrivateRedis,
                                               proxies: Callable[[str, int], TcpProxy],
                                               make_cluster: Callable[..., FaultCluster]) -> None:
    # Given a scheduler and two Celery workers reaching Redis through a proxy, with runs in flight
    proxy = proxies("127.0.0.1", private_redis.port)
    cluster = make_cluster(db_url=pg_url, executor="celery", broker_url=f"redis://127.0.0.1:{proxy.port}/0")
    start_work(cluster, schedulers=1, workers=2, runs=6, sleep=1.0)
    wait_until(lambda: cluster.progress() >= 3, 60)
    # When the path to the broker resets or swallows everything for 20 s
    with proxy.fault(mode, OUTAGE):  # type: ignore[arg-type]
        pass
    # Then the cluster settles within 90 s with every invariant holding
    report = finish(cluster, settle_timeout=90)
    assert report.settle_seconds is not None, report.explain()
    assert not report.violations, report.explain()
