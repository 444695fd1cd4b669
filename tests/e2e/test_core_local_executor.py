"""Crash containment of the local executor, through a real ``tandem scheduler`` process.

Each try runs in a forked child, so a try that calls ``os._exit``, segfaults or overruns its
``execution_timeout`` takes down only itself: it is recorded failed with the reason in its own
log file, and the other tries of the run succeed (issue 2, "Scheduler and local executor").
"""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.models import TaskTry
from tests.e2e.test_core_support import (
    FAST,
    install_dag,
    process_gone,
    read_log,
    start_tandem,
    tandem_cli,
    task_instances,
)
from tests.fixtures.processes import Processes, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                                    pytest.param("mysql", marks=pytest.mark.mysql)], indirect=True)
def test_crashing_tries_fail_alone_with_the_reason_in_their_logs(
    engine: Engine, tandem_home: Path, dags_folder: Path, processes: Processes, tmp_path: Path,
) -> None:
    # Given: a scheduler with the local executor and a DAG whose tries exit, segfault, time out,
    # print, and fail once before succeeding on retry
    install_dag(dags_folder, "core_crashes.py")
    side = tmp_path / "side"
    side.mkdir()
    env = {**FAST, "CORE_E2E_SIDE_DIR": str(side)}
    start_tandem(processes, "scheduler", env=env)

    # When: the DAG is triggered and waited for
    result = tandem_cli("dags", "trigger", "core_crashes", "--wait", "--poll-interval", "0.2", env=env)

    # Then: the run failed (exit 3) and its id was printed
    assert result.returncode == 3, result.stderr
    run_id = result.stdout.strip().splitlines()[0]
    assert run_id.startswith("manual__")
    tis = task_instances(engine, "core_crashes", run_id)
    states = {t: (ti.state, ti.try_number) for t, ti in tis.items()}
    assert states == {
        "exits": ("failed", 1), "segfaults": ("failed", 1), "sleeps": ("failed", 1),
        "prints": ("success", 1), "flaky": ("success", 2),
    }
    logs = tandem_home / "logs"

    # os._exit(3): recorded failed with the exit code as the reason, in the DB and in the log
    exits_log = read_log(logs, "core_crashes", run_id, "exits", 1)
    assert "about to os._exit(3)" in exits_log
    assert "exited with code 3" in exits_log
    assert "exited with code 3" in (tis["exits"].failure_reason or "")

    # segfault: recorded failed, killed by SIGSEGV
    segv_log = read_log(logs, "core_crashes", run_id, "segfaults", 1)
    assert "about to read address 0" in segv_log
    assert "SIGSEGV" in segv_log
    assert "SIGSEGV" in (tis["segfaults"].failure_reason or "")

    # execution_timeout=2 s: the try is stopped after 2 s (plus a little), and its process is gone
    sleeps = tis["sleeps"]
    assert sleeps.start_date is not None and sleeps.end_date is not None
    ran_for = (sleeps.end_date - sleeps.start_date).total_seconds()
    assert 2.0 <= ran_for < 2.0 + 4.0, ran_for
    assert "execution_timeout" in read_log(logs, "core_crashes", run_id, "sleeps", 1)
    assert "execution_timeout" in (sleeps.failure_reason or "")
    sleeper_pid = int((side / "sleeper.pid").read_text())
    wait_for(lambda: process_gone(sleeper_pid), 5, message=f"the timed-out try's process {sleeper_pid} to exit")

    # stdout and stderr of a try are in its log, next to Tandem's own lines
    prints_log = read_log(logs, "core_crashes", run_id, "prints", 1)
    assert "hello on stdout from prints" in prints_log
    assert "hello on stderr from prints" in prints_log
    assert "{tandem} INFO - Marked as success" in prints_log

    # a retry: try 1 failed with its traceback in attempt=1.log, try 2 succeeded in attempt=2.log
    assert "RuntimeError: first try fails on purpose" in read_log(logs, "core_crashes", run_id, "flaky", 1)
    assert "Marked as success" in read_log(logs, "core_crashes", run_id, "flaky", 2)
    with engine.connect() as conn:
        tries = conn.execute(sa.select(TaskTry.task_id, TaskTry.try_number, TaskTry.state)
                             .where(TaskTry.dag_id == "core_crashes", TaskTry.run_id == run_id)).all()
    assert sorted(tries) == [
        ("exits", 1, "failed"), ("flaky", 1, "up_for_retry"), ("flaky", 2, "success"),
        ("prints", 1, "success"), ("segfaults", 1, "failed"), ("sleeps", 1, "failed"),
    ]
    with engine.connect() as conn:
        flaky_tries = {row.try_number: row for row in conn.execute(
            sa.select(TaskTry.try_number, TaskTry.start_date, TaskTry.end_date).where(
                TaskTry.dag_id == "core_crashes", TaskTry.run_id == run_id, TaskTry.task_id == "flaky"))}
    retry_gap = (flaky_tries[2].start_date - flaky_tries[1].end_date).total_seconds()
    assert retry_gap >= 0.9, f"retry_delay of 1 s not honoured: try 2 started {retry_gap:.2f} s after try 1 ended"

    # and the scheduler survived all of it
    assert all(p.poll() is None for p in processes.procs)


def test_a_timed_out_try_leaves_no_subprocess_behind(
    engine: Engine, dags_folder: Path, processes: Processes, tmp_path: Path,
) -> None:
    # Given: a try that starts `sleep 60` and then overruns its execution_timeout of 1 s
    install_dag(dags_folder, "core_timeout_tree.py")
    side = tmp_path / "side"
    side.mkdir()
    env = {**FAST, "CORE_E2E_SIDE_DIR": str(side)}
    start_tandem(processes, "scheduler", env=env)
    grandchild_pid = None
    try:
        # When: it runs to its end
        result = tandem_cli("dags", "trigger", "core_timeout_tree", "--wait", "--poll-interval", "0.2", env=env)
        assert result.returncode == 3, result.stderr
        grandchild_pid = int((side / "grandchild.pid").read_text())
        child_pid = int((side / "child.pid").read_text())

        # Then: the try's process is gone, and so is the subprocess it started
        wait_for(lambda: process_gone(child_pid), 5, message="the try's process to exit")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not process_gone(grandchild_pid):
            time.sleep(0.1)
        assert process_gone(grandchild_pid), f"the try's subprocess {grandchild_pid} (sleep 60) outlived the try"
    finally:
        if grandchild_pid is not None and not process_gone(grandchild_pid):
            psutil.Process(grandchild_pid).kill()


def test_a_try_stopped_by_a_scheduler_shutdown_says_it_was_terminated(
    engine: Engine, dags_folder: Path, processes: Processes,
) -> None:
    # Given: a shell try and a Python try, both sleeping for 30 s under a scheduler
    install_dag(dags_folder, "core_long_sleep.py")
    scheduler = start_tandem(processes, "scheduler", env=FAST)
    run_id = tandem_cli("dags", "trigger", "core_long_sleep", env=FAST).stdout.strip()

    def both_running() -> bool:
        return [ti.state for ti in task_instances(engine, "core_long_sleep", run_id).values()] == ["running"] * 2

    wait_for(both_running, 20, message="both tries to run")

    # When: the scheduler is stopped (SIGTERM), which stops its running tries
    assert processes.stop(scheduler) == 0

    # Then: each try is recorded failed, with "terminated" as the reason, the shell one too
    reasons = {t: (ti.state, ti.failure_reason) for t, ti in task_instances(engine, "core_long_sleep", run_id).items()}
    assert reasons["python_sleep"] == ("failed", "terminated: received signal SIGTERM")
    assert reasons["bash_sleep"] == ("failed", "terminated: received signal SIGTERM")
