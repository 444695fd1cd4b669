"""Retries: a task that succeeds on its second try, one that exhausts its retries."""

from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    default_args={"retries": 2, "retry_delay": timedelta(seconds=1)},
)
def af_retries():
    @task
    def flaky() -> int:
        try_number = get_current_context()["ti"].try_number
        if try_number < 2:
            raise RuntimeError(f"try {try_number} fails")
        return try_number

    @task(retries=1)
    def hopeless() -> None:
        raise ValueError("never works")

    @task
    def report(value: int) -> None:
        assert value == 2, value

    report(flaky())
    hopeless()


af_retries()
