"""Branching and short-circuiting, with trigger rules joining the branches again."""

from datetime import datetime

from tandem import DAG, task
from tandem.operators import BranchPythonOperator, EmptyOperator, ShortCircuitOperator

with DAG("example_branching", schedule=None, start_date=datetime(2024, 1, 1), tags=["example"]) as dag:
    choose = BranchPythonOperator(
        task_id="choose",
        python_callable=lambda logical_date: "weekday" if logical_date.weekday() < 5 else "weekend",
    )
    weekday = EmptyOperator(task_id="weekday")
    weekend = EmptyOperator(task_id="weekend")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")

    @task.branch
    def pick_size(params) -> str:
        return "small" if params.get("size", 1) < 10 else "large"

    small = EmptyOperator(task_id="small")
    large = EmptyOperator(task_id="large")
    sized = EmptyOperator(task_id="sized", trigger_rule="one_success")

    proceed = ShortCircuitOperator(task_id="proceed_if_any", python_callable=list)
    never = EmptyOperator(task_id="never_runs")

    choose >> [weekday, weekend] >> join
    join >> pick_size() >> [small, large] >> sized
    sized >> proceed >> never
