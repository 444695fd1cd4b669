"""Sensors: poke and reschedule modes, PokeReturnValue, @task.sensor, soft_fail and timeouts."""

import time
from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.sensors.bash import BashSensor
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk import DAG, PokeReturnValue, task

STARTED = time.monotonic()


def _ready_after_two_seconds() -> bool:
    return time.monotonic() - STARTED > 2


with DAG("af_sensors", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:

    @task.sensor(poke_interval=1, timeout=30, mode="poke")
    def wait_for_value() -> PokeReturnValue:
        return PokeReturnValue(is_done=True, xcom_value={"rows": 42})

    @task
    def use(value: dict) -> None:
        assert value == {"rows": 42}, value

    use(wait_for_value())

    PythonSensor(task_id="poke_until_true", python_callable=lambda: True, poke_interval=1, timeout=10)
    PythonSensor(
        task_id="soft_timeout", python_callable=lambda: False, poke_interval=1, timeout=2, soft_fail=True
    ) >> EmptyOperator(task_id="after_soft_timeout")
    PythonSensor(
        task_id="hard_timeout",
        python_callable=lambda: False,
        poke_interval=1,
        timeout=2,
        retries=2,
        retry_delay=timedelta(seconds=1),
    )
    PythonSensor(
        task_id="reschedule_mode",
        python_callable=lambda: True,
        mode="reschedule",
        poke_interval=1,
        timeout=20,
    )
    PythonSensor(
        task_id="backoff", python_callable=lambda: True, poke_interval=1, exponential_backoff=True, timeout=20
    )
    BashSensor(task_id="bash_sensor", bash_command="test 1 -eq 1", poke_interval=1, timeout=10)
