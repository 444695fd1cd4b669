"""Poison DAGs and tasks: a try number of 40 with exponential backoff, a serialized DAG a node
cannot read, a task whose trigger rule raises. Each must stay local: schedulers live on, the
other DAGs' runs complete, the culprit is marked and skipped."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.models import SerializedDagModel
from tandem.orchestration.actions import set_dag_run_state
from tandem.state import DagRunState
from tests.faults.harness import FaultCluster
from tests.faults.harness.dags import poison_retries_dag, work_dag
from tests.faults.harness.invariants import side_starts
from tests.faults.harness.scenario import finish, start_work, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(180)]


@pytest.mark.parametrize("path", [
    "zombie", "fail",
])
def test_huge_try_number_with_exponential_backoff(path: str, pg_url: str,
                                                  make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers, a healthy DAG, and a task with retries=60, retry_delay 300 s, exponential
    cluster = make_cluster(db_url=pg_url)
    cluster.write_dag("poison", poison_retries_dag(cluster.side, "poison", sleep=30 if path == "zombie" else 0.2))
    start_work(cluster, schedulers=2, runs=2, sleep=0.5)
    cluster.wait_dags("poison")
    [poison_run] = cluster.trigger("poison")
    # When the poison task reaches try 40: as a zombie (its process killed while running try 40),
    # or by failing at try 41
    if path == "zombie":
        wait_until(lambda: any(k[0] == "poison" for k in side_starts(cluster)), 60)
        cluster.query("update task_instance set try_number=40, max_tries=61 where dag_id='poison' returning 1")
        cluster.query("update task_try set try_number=40 where dag_id='poison' returning 1")
        pid = int(cluster.side.read_text().split("poison ", 1)[1].split()[4])
        os.kill(pid, signal.SIGKILL)
    else:
        wait_until(lambda: cluster.query("select 1 from task_instance where dag_id='poison' and state='up_for_retry'"),
                   60)
        cluster.query("update task_instance set try_number=40, max_tries=61, state='scheduled' "
                      "where dag_id='poison' returning 1")
    time.sleep(15)  # three repair passes
    # Then the healthy DAG still runs to the end on both schedulers
    healthy = cluster.trigger("work", 3)
    wait_until(lambda: all(r.state == "success" for r in cluster.query(
        "select state from dag_run where run_id = any(:ids)", ids=list(healthy))) if healthy else True, 60, 0.5)
    with session_scope(cluster.engine) as session:
        set_dag_run_state(session, "poison", poison_run, DagRunState.FAILED)
    report = finish(cluster, settle_timeout=60, expect_success=False)
    ti = cluster.query("select state, try_number from task_instance where dag_id='poison'")
    assert not report.violations, f"poison TI {ti}\n{report.explain()}"


def _corrupt(kind: str) -> Callable[[dict[str, Any]], Any]:
    def garbage(data: dict[str, Any]) -> Any:
        return {"format": 999, "written_by": "tandem 99", "tasks": "not a list"}

    def bad_trigger_rule(data: dict[str, Any]) -> Any:
        data = dict(data)
        data["tasks"] = [{**t, "trigger_rule": "no_such_rule"} for t in data["tasks"]]
        return data

    return {"garbage": garbage, "bad_trigger_rule": bad_trigger_rule}[kind]


@pytest.mark.parametrize("kind", [
    pytest.param("garbage"),
    pytest.param("bad_trigger_rule"),
])
def test_unreadable_serialized_dag(kind: str, pg_url: str, make_cluster: Callable[..., FaultCluster]) -> None:
    # Given two schedulers, a healthy DAG and a victim DAG, with runs of both in flight
    cluster = make_cluster(db_url=pg_url)
    cluster.write_dag("victim", work_dag(cluster.side, "victim", sleep=0.5))
    start_work(cluster, schedulers=2, runs=4, sleep=0.5)
    cluster.wait_dags("victim")
    victim_runs = cluster.trigger("victim", 3)
    # When the victim's serialized form turns unreadable (written by "another version"), kept so 10 s
    original = cluster.query("select data from serialized_dag where dag_id='victim'")[0][0]
    corrupt = _corrupt(kind)
    stop = threading.Event()

    def keep_corrupting() -> None:
        while not stop.is_set():
            with session_scope(cluster.engine) as session:
                session.execute(sa.update(SerializedDagModel).where(SerializedDagModel.dag_id == "victim")
                                .values(data=corrupt(original)))
            stop.wait(0.3)

    thread = threading.Thread(target=keep_corrupting, daemon=True)
    thread.start()
    try:
        healthy = cluster.trigger("work", 3)
        time.sleep(10)  # the healthy runs take about 2 s each
    finally:
        stop.set()
        thread.join(5)
    # Then meanwhile the healthy DAG's runs completed and no scheduler fell over
    states = {r.run_id: r.state for r in cluster.query("select run_id, state from dag_run where dag_id='work'")}
    stalled = [r for r in healthy if states.get(r) != "success"]
    # ... and once the DAG is readable again (its file re-parsed), everything settles
    with session_scope(cluster.engine) as session:
        session.execute(sa.update(SerializedDagModel).where(SerializedDagModel.dag_id == "victim")
                        .values(data=original))
    report = finish(cluster, settle_timeout=60, expect_success=False)
    assert not stalled, f"healthy runs not done while another DAG was unreadable: {stalled}\n{report.explain()}"
    assert not report.violations, report.explain()
    assert victim_runs
