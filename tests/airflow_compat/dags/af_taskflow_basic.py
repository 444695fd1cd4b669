"""TaskFlow: return values flow between tasks; multiple_outputs splits a dict."""

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False, tags=["compat"])
def af_taskflow_basic():
    @task
    def extract() -> dict[str, int]:
        return {"a": 1, "b": 2}

    @task
    def add(a: int, b: int) -> int:
        return a + b

    @task
    def check(total: int) -> None:
        assert total == 3, total

    values = extract()
    check(add(values["a"], values["b"]))


af_taskflow_basic()
