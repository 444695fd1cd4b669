from __future__ import annotations

from typing import Any

from tandem.scheduler.dag_data import DagData


def _dag(*tasks: dict[str, Any]) -> DagData:
    return DagData({"dag_id": "d", "tasks": list(tasks)}, "hash")


def _task(task_id: str, downstream: list[str], **flags: Any) -> dict[str, Any]:
    return {"task_id": task_id, "upstream": [], "downstream": downstream, **flags}


def test_teardowns_do_not_decide_the_run_state() -> None:
    # setup >> work >> teardown: work is the leaf that decides, as in Airflow
    dag = _dag(_task("setup", ["work", "teardown"], is_setup=True), _task("work", ["teardown"]),
               _task("teardown", [], is_teardown=True))
    assert dag.leaves == frozenset({"work"})


def test_a_teardown_with_on_failure_fail_dagrun_decides() -> None:
    dag = _dag(_task("work", ["teardown"]), _task("teardown", [], is_teardown=True, on_failure_fail_dagrun=True))
    assert dag.leaves == frozenset({"teardown"})


def test_only_teardowns_fall_back_to_plain_leaves() -> None:
    dag = _dag(_task("teardown", [], is_teardown=True))
    assert dag.leaves == frozenset({"teardown"})
