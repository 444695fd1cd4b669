"""Many schedulers, one database: kill -9 any of them at any moment, nothing is lost or run twice.

Three schedulers share a PostgreSQL (and, smaller, a MariaDB) database and run many DAG runs
whose tasks append a row to a side table. A randomly chosen scheduler is killed with SIGKILL
and restarted every few seconds. Every run must succeed, no task instance may be left queued,
and each try the database recorded must have run its body exactly once.
"""

from __future__ import annotations

import random
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.db.session import session_scope
from tandem.scheduler.dag_data import DagDataCache
from tandem.scheduler.dagruns import trigger_dag_run
from tests.fixtures.processes import Processes

pytestmark = pytest.mark.slow

CHAOS_DAG = '''
from datetime import datetime, timedelta
import os, time
import sqlalchemy as sa
from tandem import DAG, task

ENGINE = None

def side_effect(ti):
    global ENGINE
    if ENGINE is None:
        ENGINE = sa.create_engine(os.environ["TANDEM__DATABASE__URL"], poolclass=sa.pool.NullPool)
    with ENGINE.begin() as c:
        c.execute(sa.text("insert into chaos_side (run_id, task_id, try_number, pid) values (:r, :t, :n, :p)"),
                  {"r": ti.run_id, "t": ti.task_id, "n": ti.try_number, "p": os.getpid()})
    time.sleep(0.05)

with DAG("chaos", schedule=None, start_date=datetime(2024, 1, 1), max_active_runs=100, max_active_tasks=64,
         default_args={"retries": 5, "retry_delay": timedelta(seconds=1)}) as dag:
    @task
    def step(ti=None):
        side_effect(ti)
    first = step.override(task_id="t0")()
    middle = [step.override(task_id=f"t{i}")() for i in range(1, 9)]
    last = step.override(task_id="t9")()
    first >> middle >> last
'''

CHAOS_ENV = {
    "TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
    "TANDEM__CORE__PARALLELISM": "12",
    "TANDEM__SCHEDULER__HEARTBEAT_INTERVAL": "1",
    "TANDEM__SCHEDULER__NODE_TIMEOUT": "4",
    "TANDEM__SCHEDULER__ZOMBIE_THRESHOLD": "8",
    "TANDEM__SCHEDULER__QUEUED_TIMEOUT": "60",
    "TANDEM__SCHEDULER__POLL_INTERVAL": "0.5",
    "TANDEM__SCHEDULER__DAG_DIR_LIST_INTERVAL": "2",
}


def _prepare(engine: Engine, dags_folder: Path) -> None:
    (dags_folder / "chaos.py").write_text(textwrap.dedent(CHAOS_DAG))
    with engine.begin() as conn:
        conn.execute(sa.text("create table chaos_side (run_id varchar(200), task_id varchar(200), "
                             "try_number integer, pid integer)"))


def _wait_parsed(engine: Engine, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(sa.text("select count(*) from serialized_dag where dag_id='chaos'")).scalar():
                return
        time.sleep(0.2)
    pytest.fail("the chaos DAG was never parsed")


def _unfinished_runs(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from dag_run where state not in ('success','failed')")).scalar()


def run_chaos(engine: Engine, dags_folder: Path, processes: Processes, *, runs: int, schedulers: int,
              kill_every: float, budget: float) -> dict[str, int]:
    _prepare(engine, dags_folder)
    procs = [processes.start("scheduler", name=f"scheduler{i}", env=CHAOS_ENV) for i in range(schedulers)]
    _wait_parsed(engine)
    with session_scope(engine) as session:
        cache = DagDataCache()
        for i in range(runs):
            trigger_dag_run(session, cache, "chaos", run_id=f"chaos_{i:03d}")
    kills = 0
    rng = random.Random(7)
    deadline = time.monotonic() + budget
    next_kill = time.monotonic() + kill_every
    while _unfinished_runs(engine) and time.monotonic() < deadline:
        if time.monotonic() >= next_kill:
            victim = rng.randrange(schedulers)
            processes.kill9(procs[victim])
            kills += 1
            procs[victim] = processes.start("scheduler", name=f"scheduler{victim}", env=CHAOS_ENV)
            next_kill = time.monotonic() + kill_every
        time.sleep(0.2)
    return {"kills": kills}


def _check(engine: Engine, runs: int) -> dict[str, int]:
    with engine.connect() as conn:
        states = dict(conn.execute(sa.text("select state, count(*) from dag_run group by state")).all())
        ti_states = dict(conn.execute(sa.text("select state, count(*) from task_instance group by state")).all())
        tries = conn.execute(sa.text(
            "select run_id, task_id, try_number, state from task_try")).all()
        side = conn.execute(sa.text(
            "select run_id, task_id, try_number, count(*) from chaos_side group by run_id, task_id, try_number")).all()
    recorded = {(r.run_id, r.task_id, r.try_number): r.state for r in tries}
    duplicates = [s for s in side if s[3] != 1]
    unrecorded = [s for s in side if (s[0], s[1], s[2]) not in recorded]
    succeeded_without_body = [k for k, state in recorded.items() if state == "success"
                              and k not in {(s[0], s[1], s[2]) for s in side}]
    assert states == {"success": runs}, f"run states: {states}"
    assert set(ti_states) == {"success"}, f"task instance states: {ti_states}"
    assert not duplicates, f"bodies that ran more than once for one try: {duplicates[:5]}"
    assert not unrecorded, f"bodies that ran for a try the DB never recorded: {unrecorded[:5]}"
    assert not succeeded_without_body, f"successful tries whose body never ran: {succeeded_without_body[:5]}"
    return {"runs": runs, "task_instances": sum(ti_states.values()), "tries": len(recorded),
            "retried_tries": sum(1 for k in recorded if k[2] > 1), "duplicates": len(duplicates)}


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_three_schedulers_survive_kill9_on_postgres(engine: Engine, dags_folder: Path, processes: Processes,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # Given three schedulers, 100 runs of a 10-task DAG, and a scheduler killed every 3 s
    chaos = run_chaos(engine, dags_folder, processes, runs=100, schedulers=3, kill_every=3.0, budget=240)
    # Then every run succeeded and every recorded try ran exactly once
    figures = {**chaos, **_check(engine, 100)}
    with capsys.disabled():
        print(f"\nchaos (postgres): {figures}")
    assert figures["kills"] >= 3


@pytest.mark.parametrize("db_url", ["mysql"], indirect=True)
def test_two_schedulers_survive_kill9_on_mariadb(engine: Engine, dags_folder: Path, processes: Processes,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    chaos = run_chaos(engine, dags_folder, processes, runs=20, schedulers=2, kill_every=3.0, budget=180)
    figures = {**chaos, **_check(engine, 20)}
    with capsys.disabled():
        print(f"\nchaos (mariadb): {figures}")
    assert figures["kills"] >= 1
