from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tandem.db.session import session_scope
from tandem.executors.kubernetes.pod import encode_command_workload
from tandem.executors.workload import Workload
from tandem.models import DagRun, TaskInstance

from .conftest import CHAIN_DAG, FAILING_DAG, Cli, add_run, write_dag


@pytest.fixture
def chain(dags_folder: Path, engine: Engine, cli: Cli) -> Path:
    path = write_dag(dags_folder, "chain.py", CHAIN_DAG)
    assert cli("dags", "list").code == 0
    return path


def test_list(cli: Cli, chain: Path) -> None:
    rows = json.loads(cli("tasks", "list", "chain", "-o", "json").out)
    assert [r["task_id"] for r in rows] == ["first", "echo", "last"]
    assert rows[1] == {"task_id": "echo", "operator": "BashOperator", "upstream": ["first"],
                       "trigger_rule": "all_success", "retries": 2, "pool": "p1", "queue": "default"}


def test_states_for_dag_run_json_shape(cli: Cli, engine: Engine) -> None:
    # Given a run made directly in the DB
    add_run(engine, "d", "r1", tis={"a": ("success", 1), "b": ("none", 0)})

    # When
    result = cli("tasks", "states-for-dag-run", "d", "r1", "-o", "json")

    # Then
    assert result.code == 0
    assert json.loads(result.out) == [
        {"task_id": "a", "map_index": -1, "state": "success", "try_number": 1,
         "start_date": "2024-05-01T12:00:00+00:00", "end_date": "2024-05-01T12:00:00+00:00"},
        {"task_id": "b", "map_index": -1, "state": "none", "try_number": 0, "start_date": None,
         "end_date": None},
    ]


def test_states_for_unknown_run(cli: Cli, engine: Engine) -> None:
    result = cli("tasks", "states-for-dag-run", "d", "nope")
    assert result.code == 1 and result.err == "Error: DAG run d/nope not found\n"


def test_clear_dry_run_then_clear(cli: Cli, chain: Path, engine: Engine) -> None:
    # Given a failed run
    add_run(engine, "chain", "r1", state="failed",
            tis={"first": ("success", 1), "echo": ("failed", 3), "last": ("upstream_failed", 0)})

    # When
    dry = cli("tasks", "clear", "chain", "-t", "^echo$", "--downstream", "--dry-run")
    cleared = cli("tasks", "clear", "chain", "-t", "^echo$", "--downstream", "-y")

    # Then
    assert dry.code == 0 and "echo" in dry.out and "last" in dry.out and "first" not in dry.out
    assert cleared.code == 0 and "Cleared 2 task instance(s)" in cleared.out
    with session_scope(engine) as session:
        states = {t.task_id: t.state for t in session.query(TaskInstance).filter_by(run_id="r1")}
        assert states == {"first": "success", "echo": "none", "last": "none"}
        assert session.query(DagRun).filter_by(run_id="r1").one().state == "queued"


def test_clear_only_failed_and_nothing_to_clear(cli: Cli, chain: Path, engine: Engine) -> None:
    add_run(engine, "chain", "r1", state="success", tis={"first": ("success", 1)})
    result = cli("tasks", "clear", "chain", "--only-failed", "-y")
    bad_regex = cli("tasks", "clear", "chain", "-t", "(")
    assert result.code == 0 and "No task instances to clear." in result.out
    assert bad_regex.code == 1 and "not a valid regular expression" in bad_regex.err


# Needs tandem.runner.testing (test_task and run_task_instance).
def test_tasks_test_runs_without_recording(cli: Cli, chain: Path, dags_folder: Path, engine: Engine) -> None:
    ok = cli("tasks", "test", "chain", "echo")
    write_dag(dags_folder, "failing.py", FAILING_DAG)
    failed = cli("tasks", "test", "failing", "boom")
    unknown = cli("tasks", "test", "chain", "nope")
    assert ok.code == 0 and failed.code == 1 and "task boom failed" in failed.err
    assert unknown.code == 1 and "has no task 'nope" in unknown.err
    with session_scope(engine) as session:
        assert session.query(TaskInstance).count() == 0


def test_tasks_run_runs_the_next_try(cli: Cli, chain: Path, engine: Engine) -> None:
    cli("dags", "trigger", "chain", "--run-id", "r1")
    result = cli("tasks", "run", "chain", "r1", "first")
    assert result.code == 0 and result.out.strip() == "success"
    with session_scope(engine) as session:
        ti = session.get(TaskInstance, ("chain", "r1", "first", -1))
        assert ti is not None and (ti.state, ti.try_number) == ("success", 1)
    again = cli("tasks", "run", "chain", "r1", "first")
    assert again.code == 1 and "clear it first" in again.err


def test_a_malformed_workload_is_refused_saying_why(cli: Cli) -> None:
    result = cli("tasks", "run-workload", "not-a-workload!")
    assert result.code == 1
    assert "WORKLOAD: not an encoded workload" in result.err and "Traceback" not in result.err


def test_a_try_that_is_not_queued_for_it_runs_nothing_and_exits_cleanly(
    cli: Cli, chain: Path, engine: Engine
) -> None:
    # Given a run whose first task was never queued
    cli("dags", "trigger", "chain", "--run-id", "r1")
    workload = Workload("chain", "r1", "first", -1, 1, queued_by="some-scheduler")

    # When a pod for it runs (a late or duplicate pod)
    result = cli("tasks", "run-workload", encode_command_workload(workload))

    # Then it loses the claim, runs nothing, and exits 0 (its pod ends Succeeded)
    assert result.code == 0 and "not claimed" in result.err, result
    with session_scope(engine) as session:
        ti = session.get(TaskInstance, ("chain", "r1", "first", -1))
        assert ti is None or ti.try_number == 0
