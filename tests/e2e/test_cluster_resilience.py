"""The cluster's guard rails: one config for every node, and surviving the database going away."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.crypto import generate_key
from tandem.db.engine import create_engine
from tandem.db.migrate import migrate
from tests.fixtures.private_postgres import PrivatePostgres
from tests.fixtures.processes import Processes, wait_for

pytestmark = pytest.mark.slow


def _live_schedulers(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from node where state='running' and role='scheduler'")).scalar()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_node_with_another_fernet_key_is_refused(engine: Engine, processes: Processes) -> None:
    # Given a running scheduler
    processes.start("scheduler", name="first")
    wait_for(lambda: _live_schedulers(engine) == 1, 30, message="first scheduler registered")

    # When a second one starts with a different fernet key
    other_key = generate_key()
    refused = subprocess.run([sys.executable, "-m", "tandem", "scheduler"], capture_output=True, text=True,
                             env={**_env(), "TANDEM__CORE__FERNET_KEY": other_key}, timeout=60)

    # Then it is refused, naming the key but never showing it
    assert refused.returncode == 1
    assert "core.fernet_key" in refused.stderr
    assert other_key not in refused.stderr and "Traceback" not in refused.stderr

    # And with --force it joins, marked divergent
    processes.start("scheduler", "--force", name="forced", env={"TANDEM__CORE__FERNET_KEY": other_key})
    wait_for(lambda: _live_schedulers(engine) == 2, 30, message="forced scheduler registered")
    status = subprocess.run([sys.executable, "-m", "tandem", "cluster", "status", "-o", "json"],
                            capture_output=True, text=True, env=_env(), timeout=60, check=True)
    configs = sorted(n["config"] for n in json.loads(status.stdout) if n["role"] == "scheduler")
    assert configs == ["agrees", "divergent"]


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


OUTAGE_DAG = '''
from datetime import datetime, timedelta
import os, time
from tandem import DAG, task

with DAG("outage", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=8,
         default_args={"retries": 3, "retry_delay": timedelta(seconds=1)}) as dag:
    @task
    def work(ti=None):
        with open(os.environ["OUTAGE_SIDE_FILE"], "a") as f:
            f.write(f"{ti.task_id} {ti.try_number}\\n")
        time.sleep(0.3)
    previous = None
    for layer in range(6):
        current = [work.override(task_id=f"l{layer}_{i}")() for i in range(4)]
        for upstream in previous or []:
            upstream >> current
        previous = current
'''


@pytest.mark.parametrize("outage", [4, 20], ids=["short", "longer_than_every_timeout"])
def test_the_scheduler_survives_a_database_restart(private_postgres: PrivatePostgres, processes: Processes,
                                                    dags_folder: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, outage: float) -> None:
    side = tmp_path / "side.txt"
    env = {"TANDEM__DATABASE__URL": private_postgres.url, "OUTAGE_SIDE_FILE": str(side),
           "TANDEM__SCHEDULER__HEARTBEAT_INTERVAL": "1", "TANDEM__SCHEDULER__ZOMBIE_THRESHOLD": "8",
           "TANDEM__SCHEDULER__NODE_TIMEOUT": "5"}
    monkeypatch.setenv("TANDEM__DATABASE__URL", private_postgres.url)
    (dags_folder / "outage.py").write_text(textwrap.dedent(OUTAGE_DAG))
    engine = create_engine(private_postgres.url)
    migrate(engine)
    processes.start("scheduler", env=env)
    wait_for(lambda: _count(engine, "select count(*) from serialized_dag"), 60, message="DAG parsed")
    subprocess.run([sys.executable, "-m", "tandem", "dags", "trigger", "outage", "--run-id", "r1"],
                   env={**_env(), **env}, check=True, capture_output=True, timeout=60)
    wait_for(lambda: _count(engine, "select count(*) from task_instance where state='success'") >= 4, 60,
             message="first tasks done")

    # When the database goes away for a few seconds mid-run
    engine.dispose()
    private_postgres.stop("fast")
    time.sleep(outage)
    private_postgres.start()

    # Then the run completes, no try ran its body twice, and none was run again: outcomes that
    # finished during the outage were kept until the database took them, and running tries
    # whose heartbeats the outage stopped were not taken for zombies
    wait_for(lambda: _count(engine, "select count(*) from dag_run where state in ('success','failed')"), 120,
             interval=0.5, message="run finished after the outage")
    assert _count(engine, "select count(*) from dag_run where state='success'") == 1
    lines = side.read_text().splitlines()
    assert len(lines) == len(set(lines)), "a try ran its body twice"
    with engine.connect() as conn:
        tries = {f"{r[0]} {r[1]}" for r in conn.execute(sa.text("select task_id, try_number from task_try"))}
    assert set(lines) <= tries
    assert _count(engine, "select count(*) from task_instance where state='success'") == 24
    assert sorted(lines) == sorted({line.split()[0] + " 1" for line in lines}), "a try was run again"
    engine.dispose()


def _count(engine: Engine, sql: str) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar() or 0)
    except sa.exc.OperationalError:
        return 0
