"""Airflow 3 details: cron schedules trigger (no data interval), strict templates, native rendering,
async tasks, self.log, render_template, xcom_pull(include_prior_dates=True)."""

import asyncio

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, BaseOperator, task


class Render(BaseOperator):
    def execute(self, context):
        self.log.info("rendering for %s", context["ds"])
        return self.render_template("{{ params.n * 2 }}", context)


def _native(n, items):
    assert isinstance(n, int) and items == [1, 2], (n, items)


with DAG(
    "af_airflow3_semantics",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={"n": 21},
    render_template_as_native_obj=True,
) as dag:

    @task
    def trigger_interval(logical_date=None, data_interval_start=None, data_interval_end=None) -> None:
        assert data_interval_start == data_interval_end == logical_date, (data_interval_start, data_interval_end)

    @task
    async def wait_a_bit() -> int:
        await asyncio.sleep(0.1)
        return 7

    @task
    def prior(ti=None) -> None:
        assert ti.xcom_pull(task_ids="render", include_prior_dates=True) == 42

    trigger_interval()
    wait_a_bit()
    Render(task_id="render") >> prior()
    PythonOperator(task_id="native", python_callable=_native,
                   op_kwargs={"n": "{{ params.n }}", "items": "{{ [1, 2] }}"})
    BashOperator(task_id="undefined_name", bash_command="echo {{ params.missing }}")
