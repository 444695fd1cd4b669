"""The template context: dates, params (task over DAG), macros, ti, get_current_context."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param, get_current_context, task


def _check_context(**context):
    assert context["ds"] == context["logical_date"].strftime("%Y-%m-%d")
    assert context["ds_nodash"] == context["ds"].replace("-", "")
    assert context["params"]["env"] == "task-level", context["params"]
    assert context["params"]["size"] == 5
    assert context["dag"].dag_id == "af_context_templates"
    assert context["task"].task_id == "check_context"
    assert context["ti"].task_id == "check_context"
    assert context["run_id"] == context["dag_run"].run_id
    assert context["data_interval_start"] <= context["data_interval_end"]
    assert context["logical_date"].add(days=1) > context["logical_date"]  # pendulum DateTime
    assert context["task_instance_key_str"].startswith("af_context_templates__check_context__")


with DAG(
    "af_context_templates",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={"env": Param("dag-level", type="string"), "size": Param(5, type="integer", minimum=1)},
) as dag:
    PythonOperator(task_id="check_context", python_callable=_check_context, params={"env": "task-level"})

    @task
    def current() -> str:
        context = get_current_context()
        assert context["ti"].task_id == "current"
        assert context["params"]["env"] == "dag-level"
        return context["ds"]

    ds = current()
    BashOperator(
        task_id="templated_dates",
        bash_command=(
            'test "{{ ds }}" = "{{ ti.xcom_pull(task_ids=\'current\') }}" && '
            'test "{{ macros.ds_add(ds, 1) }}" \\> "{{ ds }}" && test "{{ params.size }}" = 5 && '
            'test "{{ dag_run.run_id }}" = "{{ run_id }}" && test -n "{{ data_interval_end }}"'
        ),
    ) << ds
