"""A mapped task group: each element runs the group's tasks, instance i feeding instance i."""

import pendulum
from airflow.sdk import dag, task, task_group


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def af_mapped_task_group():
    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @task
    def add(x: int, y: int) -> int:
        return x + y

    @task
    def check_positive(value: int) -> int:
        if value == 12:
            raise ValueError("twelve is not welcome")
        return value

    @task
    def double(value: int) -> int:
        return value * 2

    @task_group
    def pipeline(x: int, y: int):
        return double(check_positive(add(x, y)))

    @task(trigger_rule="all_done")
    def summary(values) -> None:
        print(values)

    @task_group(group_id="literal_group")
    def literal_group(name: str):
        @task
        def greet(name: str) -> str:
            return f"hello {name}"

        greet(name)

    summary(pipeline.partial(y=10).expand(x=numbers()))
    literal_group.expand(name=["a", "b"])


af_mapped_task_group()
