"""Whole processes: `tandem standalone` started and stopped with Ctrl-C, a scheduler killed with
SIGKILL in the middle of a run and replaced (the database is the only truth, so a new scheduler
finishes what a dead one started), and a killed scheduler's helpers dying with it (issue 2)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.models import DagRun, Node, TaskInstance, TaskTry
from tests.e2e.test_core_support import (
    FAST,
    install_dag,
    kill_session,
    live_processes_of_session,
    output_of,
    process_gone,
    start_tandem,
    tandem_cli,
)
from tests.fixtures.processes import Processes, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def sessions() -> Iterator[list[int]]:
    """Session ids to sweep after the test: orphans of a killed process keep its session."""
    sids: list[int] = []
    yield sids
    for sid in sids:
        kill_session(sid)


def processes_of_home(home: Path) -> list[psutil.Process]:
    """Every live process (but this one) whose environment points at this test's TANDEM_HOME."""
    found = []
    for proc in psutil.process_iter(["pid", "status"]):
        if proc.pid == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            if proc.environ().get("TANDEM_HOME") == str(home):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def describe(procs: list[psutil.Process]) -> str:
    lines = []
    for p in procs:
        try:
            lines.append(f"{p.pid} {' '.join(p.cmdline())}")
        except psutil.Error:
            lines.append(str(p.pid))
    return "; ".join(lines)


@pytest.mark.parametrize("target", ["group", "process"])
def test_standalone_runs_examples_and_stops_cleanly_on_ctrl_c(
    target: str, engine: Engine, tandem_home: Path, dags_folder: Path, processes: Processes, sessions: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given: `tandem standalone` on SQLite with the example DAGs, and a DAG of long tries
    install_dag(dags_folder, "core_long_sleep.py")
    monkeypatch.setenv("TANDEM__CORE__LOAD_EXAMPLES", "true")  # for the CLI commands too
    proc = start_tandem(processes, "standalone", env=FAST)
    sessions.append(proc.pid)
    wait_for(lambda: "Press Ctrl-C to stop" in output_of(proc), 20, message="standalone to be ready")

    # Then: it says where its home, database and logs are
    banner = output_of(proc)
    assert f"home:   {tandem_home}" in banner
    assert f"DB:     sqlite:///{tandem_home / 'tandem.db'}" in banner
    assert f"logs:   {tandem_home / 'logs'}" in banner

    # When: an example DAG is triggered
    result = tandem_cli("dags", "trigger", "example_taskflow", "--wait", "--poll-interval", "0.2")
    # Then: it succeeds
    assert result.returncode == 0, result.stderr + output_of(proc)

    # Given: two tries still running (one a shell with a `sleep` child) when Ctrl-C comes
    long_run = tandem_cli("dags", "trigger", "core_long_sleep").stdout.strip()

    def both_running() -> bool:
        with engine.connect() as conn:
            states = conn.execute(sa.select(TaskInstance.state).where(
                TaskInstance.dag_id == "core_long_sleep", TaskInstance.run_id == long_run)).scalars().all()
        return states == ["running", "running"]

    wait_for(both_running, 20, message="the long tries to run")
    # standalone, DAG processor, two executor supervisors, two tries (+ the shell's sleep)
    wait_for(lambda: len(live_processes_of_session(proc.pid)) >= 6, 20, message="the tries' processes")

    # When: Ctrl-C (SIGINT to the terminal's foreground process group), or SIGINT to it alone
    started = time.monotonic()
    if target == "group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(15)
    except subprocess.TimeoutExpired:
        pytest.fail(f"standalone still running 15 s after Ctrl-C:\n{output_of(proc)}")
    took = time.monotonic() - started

    # Then: it exits 0 within 15 s, saying so
    assert code == 0, output_of(proc)
    assert took < 15
    assert "Stopped." in output_of(proc)

    # And: no process of its session, nor any with this TANDEM_HOME, is left behind
    time.sleep(0.5)  # a child killed during shutdown may need a moment to be reaped by init
    assert not live_processes_of_session(proc.pid), describe(live_processes_of_session(proc.pid))
    assert not processes_of_home(tandem_home), describe(processes_of_home(tandem_home))

    # And: its node row is marked stopped, and the interrupted tries are not left running
    with engine.connect() as conn:
        nodes = conn.execute(sa.select(Node.role, Node.state).where(Node.pid == proc.pid)).all()
        long_tis = {ti.task_id: ti for ti in conn.execute(sa.select(TaskInstance).where(
            TaskInstance.dag_id == "core_long_sleep"))}
    assert sorted(nodes) == [("api-server", "stopped"), ("standalone", "stopped")]
    assert {t: ti.state for t, ti in long_tis.items()} == {"python_sleep": "failed", "bash_sleep": "failed"}
    assert (long_tis["python_sleep"].failure_reason or "").startswith("terminated"), long_tis["python_sleep"]


def read_tries_file(path: Path) -> list[tuple[str, int]]:
    """(task_id, try_number) of every line the tasks appended."""
    if not path.exists():
        return []
    return [(parts[0], int(parts[2])) for parts in (line.split() for line in path.read_text().splitlines())]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_scheduler_killed_mid_run_is_replaced_without_running_a_try_twice(
    engine: Engine, dags_folder: Path, processes: Processes, sessions: list[int], tmp_path: Path,
) -> None:
    # Given: ten tasks of 0.5 s (retries=2), two at a time, each appending "task try" to a file
    install_dag(dags_folder, "core_ten_sleeps.py")
    side = tmp_path / "side"
    side.mkdir()
    tries_file = side / "tries.txt"
    env = {**FAST, "CORE_E2E_SIDE_DIR": str(side), "TANDEM__CORE__PARALLELISM": "2",
           "TANDEM__SCHEDULER__NODE_TIMEOUT": "3"}
    first = start_tandem(processes, "scheduler", env=env)
    sessions.append(first.pid)
    trigger = tandem_cli("dags", "trigger", "core_ten_sleeps", env=env)
    assert trigger.returncode == 0, trigger.stderr
    run_id = trigger.stdout.strip()

    # When: the scheduler is killed with SIGKILL (the process alone) once a few tries have started
    wait_for(lambda: len(read_tries_file(tries_file)) >= 3, 30, interval=0.02, message="three tries to start")
    processes.kill9(first)
    with engine.connect() as conn:
        state_at_kill = conn.execute(sa.select(DagRun.state).where(DagRun.run_id == run_id)).scalar_one()
    assert state_at_kill == "running"  # really mid-run
    # ... and another scheduler is started
    second = start_tandem(processes, "scheduler", env=env)
    sessions.append(second.pid)

    # Then: the run succeeds
    def finished() -> str | None:
        with engine.connect() as conn:
            state = conn.execute(sa.select(DagRun.state).where(DagRun.run_id == run_id)).scalar_one()
        return state if state in ("success", "failed") else None

    def diagnosis() -> str:
        with engine.connect() as conn:
            states = conn.execute(sa.select(TaskInstance.task_id, TaskInstance.state, TaskInstance.try_number,
                                            TaskInstance.queued_by).where(TaskInstance.run_id == run_id)).all()
        return f"task instances: {states}\nfirst scheduler:\n{output_of(first)}\nsecond:\n{output_of(second)}"

    deadline = time.monotonic() + 45
    while finished() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert finished() == "success", diagnosis()

    # And: the new scheduler declares the silent one dead (node_timeout 3 s + a repair pass)
    def node_states() -> dict[int, str]:
        with engine.connect() as conn:
            return dict(conn.execute(sa.select(Node.pid, Node.state)).all())

    wait_for(lambda: node_states()[first.pid] == "dead", 15, interval=0.2, message="the dead node to be declared")
    assert node_states()[second.pid] == "running"
    with engine.connect() as conn:
        tries = conn.execute(sa.select(TaskTry.task_id, TaskTry.try_number, TaskTry.state)
                             .where(TaskTry.run_id == run_id)).all()
        tis = dict(conn.execute(sa.select(TaskInstance.task_id, TaskInstance.try_number)
                                .where(TaskInstance.run_id == run_id)).all())

    # And: one task_try row per (task, try); each task's last try succeeded
    recorded = collections.Counter((t.task_id, t.try_number) for t in tries)
    assert all(n == 1 for n in recorded.values()), recorded
    assert len(tis) == 10
    for task_id, try_number in tis.items():
        assert [t.try_number for t in tries if t.task_id == task_id] == list(range(1, try_number + 1))
        assert (task_id, try_number, "success") in tries

    # And: no try ran twice, none ran unrecorded, and every successful try ran. (A try claimed
    # by a supervisor killed before it forked never ran: it is reaped as a zombie and retried.)
    ran = collections.Counter(read_tries_file(tries_file))
    assert all(n == 1 for n in ran.values()), f"ran {ran}"
    assert set(ran) <= set(recorded), f"ran {ran}, recorded {recorded}"
    assert {(t.task_id, t.try_number) for t in tries if t.state == "success"} <= set(ran)


def test_a_scheduler_killed_with_sigkill_leaves_no_helper_process(
    engine: Engine, processes: Processes, sessions: list[int],
) -> None:
    # Given: a running scheduler with its helpers (embedded DAG processor, executor supervisor)
    proc = start_tandem(processes, "scheduler", env=FAST)
    sessions.append(proc.pid)

    def started() -> bool:
        with engine.connect() as conn:
            return bool(conn.execute(sa.select(Node.id).where(Node.pid == proc.pid)).all())

    wait_for(started, 20, message="the scheduler to register")
    helpers = wait_for(lambda: len(psutil.Process(proc.pid).children()) >= 2 and psutil.Process(proc.pid).children(),
                       20, message="the scheduler's helper processes")
    time.sleep(1)  # past their start-up

    # When: the scheduler alone is killed with SIGKILL
    processes.kill9(proc)

    # Then: its helpers die with it, within a few seconds
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(process_gone(h.pid) for h in helpers):
        time.sleep(0.1)
    survivors = [h for h in helpers if not process_gone(h.pid)]
    assert not survivors, f"outlived the scheduler: {describe(survivors)}"
