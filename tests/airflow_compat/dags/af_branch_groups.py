"""Branching into task groups: a branch may name a group, and branches may live inside groups."""

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup, task

with DAG("af_branch_groups", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:

    @task.branch
    def pick() -> list[str]:
        return ["fast_path", "audit"]

    with TaskGroup("fast_path") as fast_path:
        EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
    with TaskGroup("slow_path") as slow_path:
        EmptyOperator(task_id="c")
    audit = EmptyOperator(task_id="audit")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")

    pick() >> [fast_path, slow_path, audit]
    [fast_path, slow_path, audit] >> join

    with TaskGroup("inner") as inner:

        @task.branch
        def inner_pick() -> str:
            return "inner.yes"

        inner_pick() >> [EmptyOperator(task_id="yes"), EmptyOperator(task_id="no")]
    join >> inner
