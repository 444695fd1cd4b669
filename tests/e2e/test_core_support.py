"""Helpers shared by the core end-to-end tests (``test_core_*.py``); this module has no tests.

It lives here rather than in ``tests/fixtures/`` only because the core e2e suite owns just the
``test_core_*.py`` files; move it there when convenient.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.models import TaskInstance
from tandem.orchestration import TiKey
from tandem.runner.logs import try_log_path
from tests.fixtures.processes import Processes

DAGS = Path(__file__).parent / "dags"

#: Short intervals, so that heartbeats, zombies and idle polls take seconds, not minutes.
FAST = {
    "TANDEM__SCHEDULER__HEARTBEAT_INTERVAL": "1",
    "TANDEM__SCHEDULER__ZOMBIE_THRESHOLD": "5",
    "TANDEM__SCHEDULER__POLL_INTERVAL": "0.2",
    "TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
}


def install_dag(dags_folder: Path, name: str) -> None:
    """Copy ``tests/e2e/dags/<name>`` into the test's DAG folder."""
    shutil.copy(DAGS / name, dags_folder / name)


def start_tandem(processes: Processes, *args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``processes.start`` (own session, always cleaned up), without leaking the log file handle.

    ``Processes.start`` leaves its handle on the log file open, which the suite's
    warnings-as-errors turns into a ResourceWarning failure at garbage collection.
    """
    path = processes.log_dir / f"{args[0]}-{len(processes.procs)}.log"
    with path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tandem", *args], stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **env}, start_new_session=True)
    proc.log_path = path  # type: ignore[attr-defined]
    processes.procs.append(proc)
    return proc


def output_of(proc: subprocess.Popen[bytes]) -> str:
    return proc.log_path.read_text(errors="replace")  # type: ignore[attr-defined]


def tandem_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 50) -> subprocess.CompletedProcess[str]:
    """Run one ``python -m tandem`` command to its end."""
    return subprocess.run([sys.executable, "-m", "tandem", *args], check=False, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def read_log(logs: Path, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
    return try_log_path(logs, TiKey(dag_id, run_id, task_id, -1), try_number).read_text()


def task_instances(engine: Engine, dag_id: str, run_id: str) -> dict[str, TaskInstance]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(TaskInstance).where(TaskInstance.dag_id == dag_id,
                                                          TaskInstance.run_id == run_id)).all()
    return {r.task_id: r for r in rows}


def process_gone(pid: int) -> bool:
    """True when ``pid`` has exited (a zombie waiting to be reaped counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def live_processes_of_session(sid: int) -> list[psutil.Process]:
    """Every process (zombies excepted) of session ``sid``: tries change group, not session."""
    found = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getsid(proc.pid) == sid:
                found.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return found


def kill_session(sid: int) -> None:
    """SIGKILL whatever is left of session ``sid`` (orphans in other process groups too)."""
    for proc in live_processes_of_session(sid):
        try:
            proc.kill()
        except psutil.Error:
            pass
