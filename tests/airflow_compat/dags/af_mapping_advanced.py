"""expand_kwargs, XComArg.map and XComArg.zip."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def af_mapping_advanced():
    @task
    def files() -> list[str]:
        return ["a.csv", "b.csv", "c.json"]

    @task
    def sizes() -> list[int]:
        return [10, 20]

    @task
    def pairs(pair) -> str:
        name, size = pair
        return f"{name}:{size}"

    @task
    def upper(name: str) -> str:
        return name

    @task
    def configs() -> list[dict]:
        return [{"a": 1, "b": 2}, {"a": 3, "b": 4}]

    @task
    def combine(a: int, b: int) -> int:
        return a + b

    @task
    def collect(values) -> None:
        assert sorted(values) == ["A.CSV", "B.CSV", "C.JSON"], values

    names = files()
    collect(upper.expand(name=names.map(lambda n: n.upper())))
    pairs.expand(pair=names.zip(sizes()))
    combine.expand_kwargs(configs())
    combine.override(task_id="combine_literal").expand_kwargs([{"a": 1, "b": 1}, {"a": 2, "b": 2}])
    BashOperator.partial(task_id="bash_kwargs").expand_kwargs(
        [{"bash_command": "echo one"}, {"bash_command": "echo two", "env": {"X": "1"}}]
    )


af_mapping_advanced()
