"""A try that starts a subprocess, then overruns its execution_timeout.

Used by tests/e2e/test_core_local_executor.py: when the try is killed for its timeout, its
whole process tree must go, the subprocess included. ``CORE_E2E_SIDE_DIR`` is set on the
scheduler; the pids are written there.
"""

import os
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

from tandem import DAG, task

with DAG("core_timeout_tree", schedule=None, start_date=datetime(2024, 1, 1)) as dag:

    @task(execution_timeout=timedelta(seconds=1))
    def overruns():
        side = Path(os.environ["CORE_E2E_SIDE_DIR"])
        # Popen (not subprocess.run, which kills its child itself when interrupted).
        grandchild = subprocess.Popen(["sleep", "60"])
        (side / "grandchild.pid").write_text(str(grandchild.pid))
        (side / "child.pid").write_text(str(os.getpid()))
        time.sleep(60)

    overruns()
