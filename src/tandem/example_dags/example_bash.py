"""BashOperator: templated environment, working directory, and exit code 99 = skipped.

Values a user can influence (run id, conf, params) reach the command through ``env`` and are
expanded by the shell as data; templating them into ``bash_command`` would let a run id such as
``x'; id; echo '`` run code on the worker (Airflow CVE-2022-40127).
"""

from datetime import datetime, timedelta

from tandem import DAG
from tandem.operators import BashOperator, EmptyOperator

with DAG(
    "example_bash",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    dagrun_timeout=timedelta(minutes=10),
    tags=["example", "bash"],
    default_args={"retries": 1, "retry_delay": timedelta(seconds=5)},
) as dag:
    hello = BashOperator(
        task_id="hello",
        bash_command='echo "Hello from $DAG_ID for $DS ($RUN_ID)"',
        env={"DAG_ID": "{{ dag.dag_id }}", "DS": "{{ ds }}", "RUN_ID": "{{ run_id }}"},
        append_env=True,
    )
    env = BashOperator(
        task_id="env_and_cwd",
        bash_command='echo "GREETING=$GREETING in $(pwd)"',
        env={"GREETING": "hi {{ ds_nodash }}"},
        append_env=True,
        cwd="/tmp",
    )
    skip = BashOperator(task_id="skip_me", bash_command="echo 'nothing to do today'; exit 99")
    done = EmptyOperator(task_id="done", trigger_rule="none_failed")
    hello >> env >> skip >> done
