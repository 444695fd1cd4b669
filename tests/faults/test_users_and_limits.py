"""User actions racing scheduler passes, max_active_runs across schedulers, and two nodes
migrating the schema at once."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tandem.db.migrate import head_revision
from tandem.db.session import session_scope
from tandem.models.queries import set_dag_paused
from tandem.orchestration import TiKey
from tandem.orchestration.actions import clear_task_instances, set_dag_run_state, set_task_instance_state
from tandem.state import DagRunState, TaskInstanceState
from tests.faults.harness import FaultCluster
from tests.faults.harness.scenario import finish, start_work, wait_until
from tests.fixtures.db import create_server_database, drop_server_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def random_actions(cluster: FaultCluster, stop: threading.Event, seed: int) -> Counter[str]:
    """Clear, mark, pause, unpause and trigger at random until ``stop``; count what happened."""
    rng = random.Random(seed)
    done: Counter[str] = Counter()
    while not stop.is_set():
        action = rng.choice(["clear", "clear", "mark_ti", "mark_run", "pause", "unpause", "trigger"])
        try:
            with session_scope(cluster.engine) as session:
                runs = [r[0] for r in session.execute(sa.text("select run_id from dag_run where dag_id='work'"))]
                tis = list(session.execute(sa.text("select run_id, task_id from task_instance where dag_id='work'")))
                if action == "clear" and tis:
                    run_id, task_id = rng.choice(tis)
                    clear_task_instances(session, "work", run_ids=[run_id], task_ids={task_id})
                elif action == "mark_ti" and tis:
                    run_id, task_id = rng.choice(tis)
                    state = rng.choice([TaskInstanceState.SUCCESS, TaskInstanceState.FAILED])
                    set_task_instance_state(session, TiKey("work", run_id, task_id, -1), state)
                elif action == "mark_run" and runs:
                    set_dag_run_state(session, "work", rng.choice(runs),
                                      rng.choice([DagRunState.SUCCESS, DagRunState.FAILED]))
                elif action in ("pause", "unpause"):
                    set_dag_paused(session, "work", action == "pause")
                elif action == "trigger":
                    cluster.trigger("work")
            done[action] += 1
        except Exception as e:  # noqa: BLE001 - an action refused (a race it lost) is fine; it is counted
            done[f"{action} raised {type(e).__name__}"] += 1
        stop.wait(rng.uniform(0.05, 0.4))
    return done


@pytest.mark.postgres
def test_random_user_actions_while_runs_execute(pg_url: str,
                                                make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers with runs in flight
    cluster = make_cluster(db_url=pg_url)
    start_work(cluster, schedulers=2, runs=6, sleep=0.5)
    # When a user clears, marks, pauses, unpauses and triggers at random for 15 s
    stop = threading.Event()
    result: list[Counter[str]] = []
    thread = threading.Thread(target=lambda: result.append(random_actions(cluster, stop, 8)), daemon=True)
    thread.start()
    time.sleep(15)
    stop.set()
    thread.join(10)
    with session_scope(cluster.engine) as session:
        set_dag_paused(session, "work", False)
    # Then everything settles with every invariant holding (runs may end failed: the user said so)
    report = finish(cluster, settle_timeout=60, expect_success=False)
    assert not report.violations, f"actions: {dict(result[0]) if result else '?'}\n{report.explain()}"


@pytest.mark.postgres
def test_max_active_runs_one_across_two_schedulers(pg_url: str,
                                                   make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers and a DAG with max_active_runs=1
    cluster = make_cluster(db_url=pg_url)
    watching = threading.Event()
    seen: list[int] = []

    def watch() -> None:
        while not watching.is_set():
            seen.append(int(cluster.query("select count(*) from dag_run where dag_id='work' and state='running'")[0][0]))
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    # When eight runs are triggered at once
    start_work(cluster, schedulers=2, runs=8, sleep=0.2, width=2, max_active_runs=1)
    report = finish(cluster, settle_timeout=90)
    watching.set()
    thread.join(5)
    # Then never were two running at once, even by the runs' own start and end dates
    spans = sorted(cluster.query("select start_date, end_date from dag_run where dag_id='work'"))
    overlaps = sum(1 for a, b in itertools.pairwise(spans) if b[0] < a[1])
    assert max(seen) <= 1 and not overlaps, f"running at once: max {max(seen)}, overlapping runs {overlaps}"
    assert not report.violations, report.explain()


@pytest.mark.parametrize("kind", [
    pytest.param("postgres"),
    pytest.param("mysql"),
])
def test_two_nodes_migrate_at_once(kind: str, tmp_path: object) -> None:
    # Given an empty database
    admin, name, url = create_server_database(kind)
    try:
        # When three nodes run `tandem db migrate` at the same moment
        env = {"TANDEM__DATABASE__URL": url, "TANDEM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
        procs = [subprocess.Popen([sys.executable, "-m", "tandem", "db", "migrate"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)]
        outputs = [(p.returncode, out.decode(errors="replace"))
                   for p, (out, _) in ((p, p.communicate(timeout=120)) for p in procs)]
        # Then every one succeeds and the schema is current
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            version = conn.execute(sa.text("select version_num from alembic_version")).scalars().all()
        engine.dispose()
        last = [[line for line in out.splitlines() if line.strip()][-3:] for _, out in outputs]
        assert [code for code, _ in outputs] == [0, 0, 0], f"exit codes {[c for c, _ in outputs]}; last lines {last}"
        assert version == [head_revision()]
    finally:
        drop_server_database(kind, admin, name)
    wait_until(lambda: True, 1)
