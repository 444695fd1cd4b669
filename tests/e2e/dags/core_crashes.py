"""Tries that crash in every way a local try can, next to tries that succeed.

Used by tests/e2e/test_core_local_executor.py. ``CORE_E2E_SIDE_DIR`` (set on the scheduler)
is where the sleeping task leaves its pid.
"""

import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from tandem import DAG, task


def side_dir() -> Path:
    return Path(os.environ["CORE_E2E_SIDE_DIR"])


with DAG("core_crashes", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=8) as dag:

    @task
    def exits():
        print("about to os._exit(3)", flush=True)
        os._exit(3)

    @task
    def segfaults():
        import ctypes

        print("about to read address 0", flush=True)
        ctypes.string_at(0)

    @task(execution_timeout=timedelta(seconds=2))
    def sleeps():
        (side_dir() / "sleeper.pid").write_text(str(os.getpid()))
        time.sleep(60)

    @task
    def prints():
        print("hello on stdout from prints")
        print("hello on stderr from prints", file=sys.stderr)
        return "printed"

    @task(retries=1, retry_delay=timedelta(seconds=1))
    def flaky(ti=None):
        if ti.try_number == 1:
            raise RuntimeError("first try fails on purpose")
        return f"ok on try {ti.try_number}"

    exits()
    segfaults()
    sleeps()
    prints()
    flaky()
