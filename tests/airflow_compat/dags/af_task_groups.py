"""@task_group with arguments (called twice), TaskGroup blocks, nesting, cross_downstream."""

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup, cross_downstream, task, task_group


@task
def load(source: str) -> str:
    return f"loaded {source}"


@task
def validate(value: str) -> str:
    assert value.startswith("loaded"), value
    return value


@task_group(group_id="etl", tooltip="extract and check")
def etl(source: str):
    return validate(load(source))


with DAG("af_task_groups", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
    start = EmptyOperator(task_id="start")
    first = etl("orders")
    second = etl("customers")
    start >> [first, second]

    with TaskGroup("outer") as outer:
        with TaskGroup("inner"):
            EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
        EmptyOperator(task_id="c")
    [first, second] >> outer

    x1, x2 = EmptyOperator(task_id="x1"), EmptyOperator(task_id="x2")
    y1, y2 = EmptyOperator(task_id="y1"), EmptyOperator(task_id="y2")
    cross_downstream([x1, x2], [y1, y2])
    outer >> x1
