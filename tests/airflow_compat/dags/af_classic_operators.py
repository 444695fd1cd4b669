"""Classic operators from the standard provider, templated fields and chain()."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, chain


def _check_greeting(greeting, **context):
    assert greeting == "hello", greeting
    assert context["ti"].xcom_pull(task_ids="echo") == "compat-run", context["ti"].xcom_pull(task_ids="echo")
    return len(greeting)


with DAG(
    dag_id="af_classic_operators",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"owner": "data", "retries": 0},
    tags=["compat"],
) as dag:
    start = EmptyOperator(task_id="start")
    echo = BashOperator(task_id="echo", bash_command="echo {{ params.word }}-run", params={"word": "compat"})
    check = PythonOperator(task_id="check", python_callable=_check_greeting, op_kwargs={"greeting": "hello"})
    env = BashOperator(task_id="env", bash_command='test "$COLOR" = blue', env={"COLOR": "blue"})
    end = EmptyOperator(task_id="end")
    chain(start, echo, [check, env], end)
