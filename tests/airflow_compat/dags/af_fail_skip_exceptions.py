"""AirflowFailException fails without retrying; AirflowSkipException skips."""

from datetime import timedelta

import pendulum
from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def af_fail_skip_exceptions():
    @task(retries=3, retry_delay=timedelta(seconds=1))
    def fail_now() -> None:
        raise AirflowFailException("bad input, retrying will not help")

    @task
    def skip_me() -> None:
        raise AirflowSkipException("nothing to do today")

    after_skip = EmptyOperator(task_id="after_skip")
    after_fail = EmptyOperator(task_id="after_fail", trigger_rule="all_failed")

    skip_me() >> after_skip
    fail_now() >> after_fail


af_fail_skip_exceptions()
