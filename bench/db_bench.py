"""Commits per second this PostgreSQL takes: the ceiling of the capacity model (docs/capacity.md).

usage: python bench/db_bench.py [--clients 1,2,4,8] [--seconds 5]

Each client is a process with one connection, committing one-row UPDATEs of its own row (no
lock waits between clients), as the runners' claims and outcomes do; a scratch database is
created and dropped. Prints commits/s and the mean commit round trip for each client count.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
import uuid
from typing import Any

import sqlalchemy as sa

POSTGRES_ADMIN = os.environ.get("TANDEM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def client(url: str, row: int, seconds: float, out: Any) -> None:
    engine = sa.create_engine(url)
    done = 0
    with engine.connect() as c:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            c.execute(sa.text("UPDATE counter SET v = v + 1 WHERE id = :id"), {"id": row})
            c.commit()
            done += 1
    engine.dispose()
    out.put(done)


def measure(url: str, clients: int, seconds: float) -> dict[str, float]:
    out: Any = mp.get_context("fork").Queue()
    procs = [mp.get_context("fork").Process(target=client, args=(url, i, seconds, out)) for i in range(clients)]
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    rate = total / seconds
    return {"clients": clients, "commits_per_s": round(rate), "ms_per_commit": round(1000 * clients / rate, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    name = f"tandem_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.engine.make_url(POSTGRES_ADMIN).set(database=name).render_as_string(False)
    try:
        counts = [int(n) for n in args.clients.split(",")]
        with sa.create_engine(url).begin() as c:
            c.exec_driver_sql("CREATE TABLE counter (id int PRIMARY KEY, v bigint NOT NULL)")
            c.exec_driver_sql(f"INSERT INTO counter SELECT g, 0 FROM generate_series(0, {max(counts)}) g")
        print(f"{'clients':>8}{'commits/s':>12}{'ms/commit':>12}")
        for n in counts:
            r = measure(url, n, args.seconds)
            print(f"{r['clients']:>8}{r['commits_per_s']:>12}{r['ms_per_commit']:>12}")
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
