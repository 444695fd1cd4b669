"""Late Airflow 2 import paths, still accepted by Airflow 3: airflow.models, airflow.decorators, airflow.utils."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.decorators import task, task_group
from airflow.models.baseoperator import chain
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.utils.edgemodifier import Label
from airflow.utils.task_group import TaskGroup
from airflow.utils.trigger_rule import TriggerRule

default_args = {"owner": "airflow", "retries": 1, "retry_delay": timedelta(seconds=1)}

with DAG(
    dag_id="af_airflow2_style",
    default_args=default_args,
    start_date=datetime(2024, 1, 1),
    schedule="@daily",
    catchup=False,
    description="an older-style DAG file",
) as dag:
    begin = EmptyOperator(task_id="begin")

    @task
    def produce() -> list[int]:
        return [3, 1, 2]

    @task_group
    def process(values):
        @task
        def sort(values: list[int]) -> list[int]:
            return sorted(values)

        @task
        def check(values: list[int]) -> None:
            assert values == [1, 2, 3], values

        check(sort(values))

    with TaskGroup(group_id="reports") as reports:
        BashOperator(task_id="daily", bash_command="echo {{ ds }}")
        BashOperator(task_id="weekly", bash_command="exit 99")

    end = EmptyOperator(task_id="end", trigger_rule=TriggerRule.NONE_FAILED)
    data = produce()
    begin >> Label("always") >> data
    chain(process(data), reports, end)
