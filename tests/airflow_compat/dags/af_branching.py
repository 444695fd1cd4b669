"""@task.branch and BranchPythonOperator choose paths; joins use none_failed_min_one_success."""

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator
from airflow.sdk import TriggerRule, dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def af_branching():
    @task.branch
    def choose() -> str:
        return "left"

    left = EmptyOperator(task_id="left")
    right = EmptyOperator(task_id="right")
    after_right = EmptyOperator(task_id="after_right")
    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)

    choose() >> [left, right]
    right >> after_right
    [left, after_right] >> join

    classic = BranchPythonOperator(task_id="classic_branch", python_callable=lambda: ["b1", "b2"])
    b1, b2, b3 = (EmptyOperator(task_id=name) for name in ("b1", "b2", "b3"))
    strict_join = EmptyOperator(task_id="strict_join")
    classic >> [b1, b2, b3]
    [b1, b2, b3] >> strict_join
    join >> classic


af_branching()
