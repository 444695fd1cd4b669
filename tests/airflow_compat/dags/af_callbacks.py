"""Callbacks receive the context and never change the outcome, even when they raise."""

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task


def record(context):
    assert "ti" in context and "dag" in context
    print(f"callback for {context['ti'].task_id}")


def broken_callback(context):
    raise RuntimeError("a broken callback must not fail the task")


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    on_success_callback=record,
    on_failure_callback=record,
    default_args={"on_failure_callback": record, "retry_delay": timedelta(seconds=1)},
)
def af_callbacks():
    @task(on_success_callback=[record, broken_callback], on_execute_callback=record)
    def fine() -> int:
        return 1

    @task(on_retry_callback=broken_callback, retries=1)
    def fails() -> None:
        raise RuntimeError("expected")

    @task(on_skipped_callback=record)
    def skipper() -> None:
        from airflow.exceptions import AirflowSkipException

        raise AirflowSkipException("skip")

    fine()
    fails()
    skipper()


af_callbacks()
