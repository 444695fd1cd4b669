"""Dynamic task mapping over literals and XComs, with partial() and a reduce step."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def af_mapping_basic():
    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @task
    def double(x: int, factor: int) -> int:
        return x * factor

    @task
    def total(values) -> int:
        result = sum(values)
        assert result == 12, result
        return result

    @task
    def nothing() -> list[int]:
        return []

    @task
    def never(x: int) -> None:
        raise AssertionError("mapped over nothing: must not run")

    @task
    def add(x: int, y: int) -> int:
        return x + y

    total(double.partial(factor=2).expand(x=numbers()))
    never.expand(x=nothing())
    add.expand(x=[1, 2], y=[10, 20, 30])
    BashOperator.partial(task_id="say").expand(bash_command=["echo a", "echo b"])


af_mapping_basic()
