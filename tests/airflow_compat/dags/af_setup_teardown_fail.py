"""A failing work task: the teardown still runs, its success does not hide the failure."""

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, task

with DAG("af_setup_teardown_fail", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:

    @task
    def provision() -> None:
        print("provisioned")

    @task
    def broken_work() -> None:
        raise RuntimeError("work failed")

    @task
    def cleanup() -> None:
        print("cleaned up")

    s = provision().as_setup()
    t = cleanup().as_teardown(setups=s)
    s >> broken_work() >> t >> EmptyOperator(task_id="after_teardown", trigger_rule="all_done")

    failing_setup = EmptyOperator(task_id="never_run_setup")
    unchanged = EmptyOperator(task_id="quiet_teardown").as_teardown(setups=failing_setup)
