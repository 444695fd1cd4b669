"""Short-circuiting with and without ignore_downstream_trigger_rules."""

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import DAG, task

with DAG("af_short_circuit", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:

    @task.short_circuit
    def is_weekend() -> bool:
        return False

    skipped_a = EmptyOperator(task_id="skipped_a")
    skipped_b = EmptyOperator(task_id="skipped_b")
    is_weekend() >> skipped_a >> skipped_b

    gate = ShortCircuitOperator(
        task_id="gate", python_callable=lambda: 0, ignore_downstream_trigger_rules=False
    )
    direct = EmptyOperator(task_id="direct")
    always = EmptyOperator(task_id="always_after", trigger_rule="all_done")
    gate >> direct >> always

    open_gate = ShortCircuitOperator(task_id="open_gate", python_callable=lambda: True)
    runs = EmptyOperator(task_id="runs")
    open_gate >> runs
