"""Failure handling: a failing task, upstream_failed propagation and an all_done clean-up.

This DAG's runs end *failed* on purpose (a leaf task is upstream_failed); the clean-up and
alert tasks still run.
"""

from datetime import datetime

from tandem import DAG, task
from tandem.operators import BashOperator, EmptyOperator

with DAG("example_failure", schedule=None, start_date=datetime(2024, 1, 1), tags=["example", "failure"]) as dag:
    fails = BashOperator(task_id="fails", bash_command="echo 'about to fail'; exit 3")
    never = EmptyOperator(task_id="never_runs")

    @task(trigger_rule="all_done")
    def cleanup() -> str:
        return "cleaned up"

    @task(trigger_rule="one_failed")
    def alert() -> str:
        return "alert sent"

    fails >> never
    fails >> [cleanup(), alert()]
