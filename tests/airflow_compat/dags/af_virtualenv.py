"""@task.virtualenv, @task.external_python and their classic operators run in other interpreters."""

import sys

import pendulum
from airflow.providers.standard.operators.python import ExternalPythonOperator, PythonVirtualenvOperator
from airflow.sdk import dag, task


def _in_venv(greeting: str) -> str:
    import sys

    assert sys.prefix != sys.base_prefix, "not in a virtualenv"
    return f"{greeting} from a virtualenv"


def _exit_with(code: int) -> None:
    import sys

    sys.exit(code)


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def af_virtualenv():
    @task.virtualenv(system_site_packages=False)
    def isolated(numbers: list[int]) -> int:
        import json

        return json.loads(json.dumps(sum(numbers)))

    @task.external_python(python=sys.executable)
    def external(value: int, ds=None) -> dict:
        return {"value": value * 2, "has_ds": ds is not None}

    @task
    def check(result: dict) -> None:
        assert result == {"value": 12, "has_ds": True}, result

    @task.virtualenv(system_site_packages=False)
    def broken() -> None:
        raise ValueError("fails inside the virtualenv")

    check(external(isolated([1, 2, 3])))
    broken()
    PythonVirtualenvOperator(task_id="classic_venv", python_callable=_in_venv, op_args=["hello"],
                             system_site_packages=False)
    ExternalPythonOperator(task_id="skipped_by_exit_code", python=sys.executable, python_callable=_exit_with,
                           op_args=[42], skip_on_exit_code=42)


af_virtualenv()
