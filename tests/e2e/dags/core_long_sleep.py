"""Two tries that run for 30 s, one in Python and one in a shell: still running when the
scheduler is stopped. Used by tests/e2e/test_core_processes.py."""

import time
from datetime import datetime

from tandem import DAG, task
from tandem.operators import BashOperator

with DAG("core_long_sleep", schedule=None, start_date=datetime(2024, 1, 1)) as dag:

    @task
    def python_sleep():
        time.sleep(30)

    python_sleep()
    BashOperator(task_id="bash_sleep", bash_command="sleep 30; echo done")
