"""Soak: a randomized schedule of faults over a running cluster (3 schedulers, 2 Celery workers
on Redis, a private PostgreSQL), checking issue 8's invariants after each fault settles.

usage: python bench/soak.py --minutes N [--seed S]

Fault kinds: SIGSTOP of a scheduler or a worker past every timeout, kill -9 of a scheduler,
reset and black hole of the DB and broker paths (TCP proxies), PostgreSQL and Redis stopped and
restarted, a scheduler restarted 10 min off (faketime), the log disk filled, an unreadable
serialized DAG, random user actions. After each: stop feeding runs, wait for the cluster to
settle (bounded), check the invariants; prints per kind the count injected, the invariant
violations that followed (must be 0) and settle times. Raw figures go to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tandem.db.migrate import migrate
from tandem.db.session import session_scope
from tandem.models import SerializedDagModel
from tests.faults.harness import (
    FaultCluster,
    NodeProc,
    PrivateRedis,
    SmallVolume,
    TcpProxy,
    Unavailable,
    check_invariants,
    faketime_env,
    pause,
    resume,
)
from tests.faults.harness.dags import work_dag
from tests.faults.harness.servers import start_private_postgres
from tests.faults.test_users_and_limits import random_actions

FAULT_SECONDS = 12.0


class Soak:
    def __init__(self, workdir: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.workdir = workdir
        workdir.chmod(0o755)  # the private PostgreSQL runs as the postgres user
        (workdir / "pg").mkdir()
        self.pg = start_private_postgres(workdir / "pg")
        admin = sa.create_engine(self.pg.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE tandem")
        admin.dispose()
        self.db_url = sa.engine.make_url(self.pg.url).set(database="tandem").render_as_string(hide_password=False)
        engine = sa.create_engine(self.db_url, poolclass=sa.pool.NullPool)
        migrate(engine)
        engine.dispose()
        self.redis = PrivateRedis(workdir)
        self.redis.start()
        self.db_proxy = TcpProxy("127.0.0.1", self.pg.port)
        self.redis_proxy = TcpProxy("127.0.0.1", self.redis.port)
        try:
            self.volume: SmallVolume | None = SmallVolume(64)
        except Unavailable:
            self.volume = None
        env = {"TANDEM__LOGGING__BASE_LOG_FOLDER": str(self.volume.path)} if self.volume else {}
        node_url = sa.engine.make_url(self.db_url).set(port=self.db_proxy.port).render_as_string(hide_password=False)
        self.cluster = FaultCluster(workdir / "cluster", db_url=self.db_url, node_db_url=node_url, executor="celery",
                                    broker_url=f"redis://127.0.0.1:{self.redis_proxy.port}/0", env=env)
        c = self.cluster
        c.write_dag("work", work_dag(c.side, "work", sleep=0.5, width=4))
        c.write_dag("victim", work_dag(c.side, "victim", sleep=0.5, width=2))
        for _ in range(3):
            c.scheduler()
        for i in range(2):
            c.worker(f"worker{i}", concurrency=4)
        c.wait_dags("work", "victim")
        self.feeding = threading.Event()
        self.stopping = threading.Event()
        self.feeder = threading.Thread(target=self._feed, daemon=True)
        self.feeder.start()
        self.seen: set[str] = set()

    def _feed(self) -> None:
        """Keep about 6 runs in flight while feeding is on."""
        while not self.stopping.is_set():
            if self.feeding.is_set():
                try:
                    active = self.cluster.query("select count(*) from dag_run where state in ('queued','running')")[0][0]
                    if active < 6:
                        self.cluster.trigger(self.rng.choice(["work", "work", "victim"]))
                except Exception:  # noqa: BLE001, S110 - the observer's DB may be down during a PG fault
                    pass
            self.stopping.wait(0.5)

    # -- faults -------------------------------------------------------------------------------

    def _pick(self, role: str) -> NodeProc:
        return self.rng.choice([n for n in self.cluster.nodes if n.role == role and n.proc.poll() is None
                                and not n.stopped_on_purpose])

    def scheduler_sigstop(self) -> None:
        node = self._pick("scheduler")
        pause(node.pid)
        time.sleep(FAULT_SECONDS)
        resume(node.pid)

    def worker_sigstop(self) -> None:
        node = self._pick("worker")
        pause(node.pid, group=True)
        time.sleep(FAULT_SECONDS)
        resume(node.pid, group=True)

    def scheduler_kill9(self) -> None:
        node = self._pick("scheduler")
        node.stopped_on_purpose = True
        self.cluster.processes.kill9(node.proc)
        self.cluster.scheduler(name=node.name)

    def db_reset(self) -> None:
        with self.db_proxy.fault("reset", FAULT_SECONDS):
            pass

    def db_blackhole(self) -> None:
        with self.db_proxy.fault("blackhole", FAULT_SECONDS):
            pass

    def broker_blackhole(self) -> None:
        with self.redis_proxy.fault("blackhole", FAULT_SECONDS):
            pass

    def pg_restart(self) -> None:
        self.pg.stop("fast")
        time.sleep(FAULT_SECONDS)
        self.pg.start()

    def redis_restart(self) -> None:
        self.redis.stop()
        time.sleep(FAULT_SECONDS)
        self.redis.start()

    def clock_skew(self) -> None:
        node = self._pick("scheduler")
        self.cluster.stop(node)
        skewed = self.cluster.scheduler(name=f"{node.name}-skewed", env=faketime_env(self.rng.choice(["+10m", "-10m"])))
        time.sleep(FAULT_SECONDS * 2)
        self.cluster.stop(skewed)
        self.cluster.scheduler(name=node.name)

    def disk_full(self) -> None:
        if self.volume is None:
            return
        filler = self.volume.path / "filler"
        try:
            with filler.open("wb") as f:
                while True:
                    f.write(b"\0" * (1 << 20))
        except OSError:
            pass
        time.sleep(FAULT_SECONDS)
        filler.unlink(missing_ok=True)

    def unreadable_dag(self) -> None:
        original = self.cluster.query("select data from serialized_dag where dag_id='victim'")[0][0]
        deadline = time.monotonic() + FAULT_SECONDS
        while time.monotonic() < deadline:
            with session_scope(self.cluster.engine) as session:
                session.execute(sa.update(SerializedDagModel).where(SerializedDagModel.dag_id == "victim")
                                .values(data={"format": 999, "tasks": "not a list"}))
            time.sleep(0.3)
        with session_scope(self.cluster.engine) as session:
            session.execute(sa.update(SerializedDagModel).where(SerializedDagModel.dag_id == "victim")
                            .values(data=original))

    def user_actions(self) -> None:
        stop = threading.Event()
        thread = threading.Thread(target=random_actions, args=(self.cluster, stop, self.rng.randrange(1000)),
                                  daemon=True)
        thread.start()
        time.sleep(FAULT_SECONDS)
        stop.set()
        thread.join(10)
        with session_scope(self.cluster.engine) as session:
            session.execute(sa.text("update dag set is_paused=false"))

    KINDS = ("scheduler_sigstop", "worker_sigstop", "scheduler_kill9", "db_reset", "db_blackhole",
             "broker_blackhole", "pg_restart", "redis_restart", "clock_skew", "disk_full", "unreadable_dag",
             "user_actions")

    # -- the schedule -------------------------------------------------------------------------

    def revive(self) -> list[str]:
        """Restart crashed processes (counted as violations by the checker first)."""
        revived = []
        for node in list(self.cluster.nodes):
            if node.proc.poll() is not None and not node.stopped_on_purpose:
                node.stopped_on_purpose = True
                revived.append(node.name)
                if node.role == "scheduler":
                    self.cluster.scheduler(name=f"{node.name}-r")
                else:
                    self.cluster.worker(f"{node.hostname}r", concurrency=4)
        return revived

    def one(self, kind: str) -> dict[str, Any]:
        self.feeding.set()
        time.sleep(self.rng.uniform(3, 8))  # let work get in flight
        fault: Callable[[], None] = getattr(self, kind)
        t0 = time.monotonic()
        fault()
        self.feeding.clear()
        settle = self.cluster.settle(120)
        report = check_invariants(self.cluster, settle_seconds=settle, expect_success=False)
        # A violation that persists (a node still under its dead row) is counted once, when it appears.
        keyed = {re.sub(r"\d+\.\d+", "#", str(v)): str(v) for v in report.violations}
        fresh = [v for k, v in keyed.items() if k not in self.seen]
        self.seen |= set(keyed)
        revived = self.revive()
        if settle is None:
            # unstick the schedule: fail what did not settle, so the next fault starts clean
            with session_scope(self.cluster.engine) as session:
                session.execute(sa.text("update dag_run set state='failed' where state in ('queued','running')"))
                session.execute(sa.text("update task_instance set state='failed' "
                                        "where state in ('scheduled','queued','running','up_for_retry')"))
        return {"kind": kind, "fault_s": round(time.monotonic() - t0 - (settle or 120), 1), "settle_s": settle,
                "violations": fresh, "revived": revived, "figures": report.summary()}

    def close(self) -> None:
        self.stopping.set()
        self.cluster.close()
        self.db_proxy.close()
        self.redis_proxy.close()
        self.redis.stop()
        try:
            self.pg.stop("immediate")
        except Exception:  # noqa: BLE001, S110 - already stopped
            pass
        if self.volume is not None:
            self.volume.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--kinds", default=",".join(Soak.KINDS), help="comma-separated fault kinds")
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    workdir = Path(tempfile.mkdtemp(prefix="tandem-soak-"))
    print(f"soak for {args.minutes} min; logs under {workdir}", file=sys.stderr)
    soak = Soak(workdir, args.seed)
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.minutes * 60
    try:
        order = list(kinds)
        soak.rng.shuffle(order)
        while time.monotonic() < deadline:
            if not order:
                order = list(kinds)
                soak.rng.shuffle(order)
            kind = order.pop()
            event = soak.one(kind)
            events.append(event)
            print(f"{kind:<18} settle {event['settle_s']}s violations {len(event['violations'])} "
                  f"revived {event['revived']}", file=sys.stderr)
            for v in event["violations"][:3]:
                print(f"    {v[:200]}", file=sys.stderr)
    finally:
        soak.close()
    per: dict[str, dict[str, Any]] = defaultdict(lambda: {"injected": 0, "violations": 0, "settle": []})
    for e in events:
        p = per[e["kind"]]
        p["injected"] += 1
        p["violations"] += len(e["violations"])
        p["settle"].append(e["settle_s"])
    print(f"\n{'fault':<18} {'injected':>8} {'violations':>10} {'settle median s':>16} {'settle max s':>13}")
    for kind, p in sorted(per.items()):
        settled = [s for s in p["settle"] if s is not None]
        unsettled = len(p["settle"]) - len(settled)
        med = f"{statistics.median(settled):.1f}" if settled else "-"
        mx = f"{max(settled):.1f}" if settled else "-"
        mx += f" (+{unsettled} never)" if unsettled else ""
        print(f"{kind:<18} {p['injected']:>8} {p['violations']:>10} {med:>16} {mx:>13}")
    out = ROOT / "bench" / "results" / f"soak-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"minutes": args.minutes, "seed": args.seed, "events": events}, indent=2, default=str))
    print(f"\nwritten to {out}")
    return 1 if any(p["violations"] for p in per.values()) else 0


if __name__ == "__main__":
    os.environ.setdefault("TANDEM__CORE__LOAD_EXAMPLES", "false")
    sys.exit(main())
