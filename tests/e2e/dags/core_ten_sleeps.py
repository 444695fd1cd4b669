"""Ten short independent tasks, each appending one line per try to a side-effect file.

Used by tests/e2e/test_core_scheduler_restart.py: the line count proves no try ran twice.
``CORE_E2E_SIDE_DIR`` is set on the schedulers.
"""

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from tandem import DAG, task

with DAG("core_ten_sleeps", schedule=None, start_date=datetime(2024, 1, 1),
         default_args={"retries": 2, "retry_delay": timedelta(seconds=0)}) as dag:

    @task
    def nap(n: int, ti=None) -> int:
        with open(Path(os.environ["CORE_E2E_SIDE_DIR"]) / "tries.txt", "a") as f:
            f.write(f"{ti.task_id} {ti.map_index} {ti.try_number} {os.getpid()}\n")
        time.sleep(0.5)
        return n

    for i in range(10):
        nap.override(task_id=f"nap_{i}")(i)
