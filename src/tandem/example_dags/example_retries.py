"""Retries with exponential backoff, an execution timeout, pools, callbacks and a variable."""

from datetime import datetime, timedelta

from tandem import DAG, task


def note(event):
    def callback(context):
        print(f"callback: {context['ti'].task_id} {event} (try {context['ti'].try_number})")

    return callback


with DAG(
    "example_retries",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    tags=["example"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(seconds=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=4),
        "on_retry_callback": note("will retry"),
        "on_success_callback": note("succeeded"),
    },
) as dag:

    @task(execution_timeout=timedelta(seconds=30), priority_weight=10)
    def flaky(ti=None) -> str:
        # Fails on its first try, succeeds on the next: retries in action.
        if ti.try_number < 2:
            raise RuntimeError("first try fails on purpose")
        return f"ok on try {ti.try_number}"

    @task(pool="default_pool", pool_slots=2)
    def uses_variable(var=None) -> str:
        return var.value.get("example_greeting", "no variable set")

    flaky() >> uses_variable()
