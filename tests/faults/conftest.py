"""Fixtures of the fault-injection suite: a fresh PostgreSQL database per test, clusters of
real ``tandem`` processes, TCP proxies, private servers, clock skew and a small disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tandem.db.migrate import migrate
from tests.faults.harness import FaultCluster, SmallVolume, TcpProxy, Unavailable
from tests.fixtures.db import create_server_database, drop_server_database
from tests.fixtures.services import unavailable


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated database on the shared PostgreSQL server, dropped afterwards."""
    admin, name, url = create_server_database("postgres")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        migrate(engine)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        drop_server_database("postgres", admin, name)


@pytest.fixture
def proxies() -> Iterator[Callable[[str, int], TcpProxy]]:
    made: list[TcpProxy] = []

    def make(host: str, port: int) -> TcpProxy:
        made.append(TcpProxy(host, port))
        return made[-1]

    yield make
    for p in made:
        p.close()


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., FaultCluster]]:
    """``make_cluster(db_url=..., **options)``; every process is killed at the end."""
    made: list[FaultCluster] = []

    def make(**kwargs: Any) -> FaultCluster:
        cluster = FaultCluster(tmp_path / f"cluster{len(made)}", **kwargs)
        made.append(cluster)
        return cluster

    yield make
    for c in made:
        c.close()


@pytest.fixture
def small_volume() -> Iterator[SmallVolume]:
    """A 2 MB filesystem (tmpfs, else a loop device)."""
    try:
        volume = SmallVolume(2)
    except Unavailable as e:
        unavailable(str(e))
    try:
        yield volume
    finally:
        volume.close()
