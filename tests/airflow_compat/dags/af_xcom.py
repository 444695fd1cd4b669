"""XCom: multiple_outputs, explicit keys, pulls from lists of tasks and from mapped tasks."""

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, task


def _push(ti):
    ti.xcom_push(key="custom", value={"k": 1})
    return "returned"


def _pull(ti):
    assert ti.xcom_pull(task_ids="push", key="custom") == {"k": 1}
    assert ti.xcom_pull(task_ids="push") == "returned"
    assert ti.xcom_pull(task_ids=["push", "split"], key="return_value")[0] == "returned"
    assert ti.xcom_pull(task_ids="square") == [1, 4, 9], ti.xcom_pull(task_ids="square")
    assert ti.xcom_pull(task_ids="square", map_indexes=1) == 4


with DAG("af_xcom", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
    push = PythonOperator(task_id="push", python_callable=_push)

    @task(multiple_outputs=True)
    def split() -> dict:
        return {"left": 1, "right": 2}

    @task
    def add(a: int, b: int) -> int:
        return a + b

    @task
    def square(x: int) -> int:
        return x * x

    parts = split()
    total = add(parts["left"], parts["right"])
    squares = square.expand(x=[1, 2, 3])
    pull = PythonOperator(task_id="pull", python_callable=_pull)
    [push, parts, total, squares] >> pull
    PythonOperator(task_id="no_push", python_callable=lambda: "dropped", do_xcom_push=False)
