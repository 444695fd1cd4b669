"""Clearing with Airflow's semantics: mapped tasks re-expand, setups and teardowns come along."""

from __future__ import annotations

from tandem.db.session import session_scope
from tandem.orchestration.actions import clear_task_instances, select_task_ids
from tests.fixtures.scheduler import Harness

MAPPED = """
with DAG("mapped", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task
    def numbers():
        return [1, 2, 3]
    @task
    def double(x):
        return 2 * x
    double.expand(x=numbers())
"""

SETUP_TEARDOWN = """
with DAG("st", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    create = EmptyOperator(task_id="create").as_setup()
    work = EmptyOperator(task_id="work")
    other = EmptyOperator(task_id="other")
    delete = EmptyOperator(task_id="delete").as_teardown(setups=create)
    create >> work >> delete
"""


def test_a_cleared_mapped_task_runs_its_instances_again(harness: Harness) -> None:
    harness.add_dag("mapped", MAPPED)
    scheduler = harness.scheduler()
    run_id = harness.trigger("mapped", scheduler)
    assert harness.drive(scheduler, "mapped", run_id) == "success"
    # No map_index -1 placeholder is left behind, as in Airflow
    assert sorted(harness.tis("mapped", run_id)) == [("double", 0), ("double", 1), ("double", 2), ("numbers", -1)]

    with session_scope(harness.engine) as session:
        assert len(clear_task_instances(session, "mapped", run_ids=[run_id], task_ids={"double"})) == 3
    assert harness.drive(scheduler, "mapped", run_id) == "success"
    tis = harness.tis("mapped", run_id)
    assert sorted(tis) == [("double", 0), ("double", 1), ("double", 2), ("numbers", -1)]
    assert [tis[("double", i)].try_number for i in range(3)] == [2, 2, 2]


def test_clearing_a_work_task_clears_its_setup_and_teardown(harness: Harness) -> None:
    harness.add_dag("st", SETUP_TEARDOWN)
    with session_scope(harness.engine) as session:
        assert select_task_ids(session, "st", task_ids=["work"]) == {"create", "work", "delete"}
        assert select_task_ids(session, "st", task_ids=["other"]) == {"other"}
