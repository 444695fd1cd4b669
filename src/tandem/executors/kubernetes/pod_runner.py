"""What a worker pod runs: ``tandem tasks run-workload <workload>``.

The same claim -> run -> record runner as a Celery worker's (``run_supervised``), under the
pod's identity: the pod's name as host name, its uid as the runner's node id. The try's log is
copied to the container's output as it grows, so ``kubectl logs`` and Tandem's log reader see
it while the try runs, and to remote log storage once it ends.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path
from typing import BinaryIO

from tandem.config import Settings
from tandem.executors.workload import Workload
from tandem.runner.logs import try_log_path

#: Outcomes after which the pod exits 0; any other ends the container with 1 (phase Failed).
CLEAN_ENDS = ("success", "skipped", "not claimed")


class LogTail(threading.Thread):
    """Copies what is appended to ``path`` to ``out`` until stopped, then the rest."""

    def __init__(self, path: Path, out: BinaryIO, interval: float = 0.2) -> None:
        super().__init__(name="try-log-tail", daemon=True)
        self.path, self.out, self.interval = path, out, interval
        self._offset = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self._copy()

    def _copy(self) -> None:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except OSError:
            return
        if data:
            self._offset += len(data)
            self.out.write(data)
            self.out.flush()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)
        self._copy()


def run_in_pod(workload: Workload, settings: Settings) -> str:
    """Run the try to its end; return what happened (a state, or why nothing ran)."""
    from tandem.runner.execute import default_hostname
    from tandem.runner.remote_log import keep_remote_log
    from tandem.runner.supervisor import run_supervised

    hostname = os.environ.get("TANDEM_POD_NAME") or default_hostname(settings)
    node_id = os.environ.get("TANDEM_POD_UID") or str(uuid.uuid4())
    tail = LogTail(try_log_path(settings.log_folder, workload.key, workload.try_number), sys.stdout.buffer)
    tail.start()
    try:
        detail = run_supervised(workload, settings=settings, node_id=node_id, hostname=hostname)
    finally:
        tail.stop()
    keep_remote_log(settings, workload, node_id, detail)
    return detail
