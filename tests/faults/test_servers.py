"""A private PostgreSQL (the metadata DB) and a private Redis (the broker) stopped for 20 s,
longer than every retry budget, then started again, while runs execute."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tandem.db.migrate import migrate
from tests.faults.harness import FaultCluster, PrivateRedis
from tests.faults.harness.scenario import finish, start_work, wait_until
from tests.fixtures.private_postgres import PrivatePostgres

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

OUTAGE = 20.0


def test_postgres_stopped_and_restarted(private_postgres: PrivatePostgres,
                                        make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers on a private PostgreSQL, with runs in flight
    admin = sa.create_engine(private_postgres.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE tandem")
    admin.dispose()
    url = sa.engine.make_url(private_postgres.url).set(database="tandem").render_as_string(hide_password=False)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    migrate(engine)
    engine.dispose()
    cluster = make_cluster(db_url=url)
    start_work(cluster, schedulers=2, runs=8, sleep=1.0)
    wait_until(lambda: cluster.progress() >= 3, 60)
    # When the server stops for 20 s and starts again
    private_postgres.stop("fast")
    time.sleep(OUTAGE)
    private_postgres.start()
    # Then the cluster settles, and no outcome was lost (tasks never fail by themselves)
    report = finish(cluster, settle_timeout=60, no_retries=True)
    assert report.settle_seconds is not None, report.explain()
    assert not report.violations, report.explain()


@pytest.mark.postgres
def test_redis_stopped_and_restarted(pg_url: str, private_redis: PrivateRedis,
                                     make_cluster: Callable[..., FaultCluster]) -> None:
    # Given a scheduler and two Celery workers on a private Redis, with runs in flight
    cluster = make_cluster(db_url=pg_url, executor="celery", broker_url=private_redis.url)
    start_work(cluster, schedulers=1, workers=2, runs=6, sleep=1.0)
    wait_until(lambda: cluster.progress() >= 3, 60)
    # When Redis dies (losing every message) and comes back empty 20 s later
    private_redis.stop()
    time.sleep(OUTAGE)
    private_redis.start()
    # Then the cluster settles (lost messages are re-queued after queued_timeout, 20 s)
    report = finish(cluster, settle_timeout=90)
    assert report.settle_seconds is not None, report.explain()
    assert not report.violations, report.explain()
