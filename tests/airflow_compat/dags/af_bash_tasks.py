"""@task.bash, exit code 99 skips, a failing command fails, environment and cwd."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def af_bash_tasks():
    @task.bash
    def greet(name: str) -> str:
        return f"echo hello {name} on {{{{ ds }}}}"

    @task.bash(env={"LEVEL": "3"}, append_env=True)
    def level() -> str:
        return 'test "$LEVEL" = 3'

    skip = BashOperator(task_id="skip_99", bash_command="exit 99")
    after_skip = BashOperator(task_id="after_skip", bash_command="echo unreachable")
    BashOperator(task_id="custom_skip", bash_command="exit 3", skip_on_exit_code=[3])
    BashOperator(task_id="fail", bash_command="echo oops; exit 2")
    BashOperator(task_id="cwd", bash_command='test "$(pwd)" = /tmp', cwd="/tmp")

    greet("compat") >> level()
    skip >> after_skip


af_bash_tasks()
