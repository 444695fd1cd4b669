"""Operator arguments Airflow accepts: concurrency limits, map_index_template, inlets/outlets, email, docs."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Asset, task

with DAG(
    "af_operator_args",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    max_active_tasks=4,
    max_active_runs=1,
    default_args={"email": ["ops@example.com"], "email_on_failure": False, "email_on_retry": False},
    doc_md="# Operator arguments",
) as dag:

    @task(max_active_tis_per_dag=2, map_index_template="{{ task.op_kwargs['city'] }}")
    def weather(city: str) -> str:
        return city

    weather.expand(city=["Paris", "Lima", "Oslo"])

    BashOperator(
        task_id="limited",
        bash_command="echo limited",
        max_active_tis_per_dagrun=1,
        outlets=[Asset("file:///tmp/limited.txt")],
        inlets=[Asset("file:///tmp/input.txt")],
        executor_config={},
        doc_md="runs alone",
        task_display_name="Limited task",
        priority_weight=5,
        weight_rule="absolute",
        pool_slots=1,
        owner="ops",
    )
