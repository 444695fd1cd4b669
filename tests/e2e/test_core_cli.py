"""The core CLI against a real scheduler process: trigger and wait, task states, import errors,
the single-scheduler rule of SQLite, and ``dags test`` over every shipped example DAG (issue 2, "CLI").
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import tandem.example_dags
from tandem.cli.main import main
from tandem.config import reset_settings
from tandem.models import DagRun, ImportError_, Node
from tests.e2e.test_core_support import FAST, install_dag, read_log, start_tandem, tandem_cli
from tests.fixtures.processes import Processes, wait_for

pytestmark = pytest.mark.timeout(90)

EXAMPLES = sorted(p.stem for p in Path(tandem.example_dags.__file__).parent.glob("example_*.py"))
#: Example DAGs whose runs end failed on purpose (their docstrings say so).
FAIL_ON_PURPOSE = {"example_failure"}
ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.mark.slow
def test_trigger_wait_exit_codes_and_task_states_as_json(
    engine: Engine, tandem_home: Path, dags_folder: Path, processes: Processes,
) -> None:
    # Given: a scheduler, a DAG that succeeds (with a param) and one that fails
    install_dag(dags_folder, "core_good.py")
    install_dag(dags_folder, "core_fails.py")
    start_tandem(processes, "scheduler", env=FAST)

    # When: the good DAG is triggered with conf and waited for
    good = tandem_cli("dags", "trigger", "core_good", "--conf", '{"greeting": "bonjour"}', "--wait",
                      "--poll-interval", "0.2")

    # Then: exit 0, the run id on stdout, and the conf reached the run and its task
    assert good.returncode == 0, good.stderr
    run_id = good.stdout.strip()
    assert re.fullmatch(r"manual__\S+", run_id), good.stdout
    assert f"DAG run {run_id} success" in good.stderr
    with engine.connect() as conn:
        run = conn.execute(sa.select(DagRun.state, DagRun.conf).where(
            DagRun.dag_id == "core_good", DagRun.run_id == run_id)).one()
    assert run.state == "success"
    assert run.conf == {"greeting": "bonjour"}
    assert "greeting=bonjour" in read_log(tandem_home / "logs", "core_good", run_id, "greet", 1)
    assert "shouted=BONJOUR" in read_log(tandem_home / "logs", "core_good", run_id, "shout", 1)

    # And: states-for-dag-run -o json gives every task instance with ISO 8601 times with a zone
    states = tandem_cli("tasks", "states-for-dag-run", "core_good", run_id, "-o", "json")
    assert states.returncode == 0, states.stderr
    rows = json.loads(states.stdout)
    assert [r["task_id"] for r in sorted(rows, key=lambda r: r["task_id"])] == ["greet", "shout"]
    for row in rows:
        assert set(row) == {"task_id", "map_index", "state", "try_number", "start_date", "end_date"}
        assert (row["map_index"], row["state"], row["try_number"]) == (-1, "success", 1)
        for column in ("start_date", "end_date"):
            assert ISO_WITH_ZONE.match(row[column]), row[column]
            assert datetime.fromisoformat(row[column]).utcoffset() is not None
        assert datetime.fromisoformat(row["start_date"]) <= datetime.fromisoformat(row["end_date"])
    by_task = {r["task_id"]: r for r in rows}
    assert by_task["greet"]["end_date"] <= by_task["shout"]["start_date"]

    # When: a conf that breaks the params' schema is given
    refused = tandem_cli("dags", "trigger", "core_good", "--conf", '{"greeting": 5}', "--wait")
    # Then: the trigger is refused with the validation message, and no run is created
    assert refused.returncode == 1
    assert "greeting" in refused.stderr and refused.stdout == ""

    # When: the failing DAG is triggered and waited for
    bad = tandem_cli("dags", "trigger", "core_fails", "--wait", "--poll-interval", "0.2")
    # Then: exit 3 (a failed run, told apart from a usage error), still printing the run id
    assert bad.returncode == 3, bad.stderr
    bad_run = bad.stdout.strip()
    assert bad_run.startswith("manual__")
    assert "failed" in bad.stderr
    rows = json.loads(tandem_cli("tasks", "states-for-dag-run", "core_fails", bad_run, "-o", "json").stdout)
    assert [(r["task_id"], r["state"], r["try_number"]) for r in rows] == [("boom", "failed", 1)]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(DagRun).where(
            DagRun.dag_id == "core_good")).scalar_one() == 1


@pytest.mark.slow
def test_a_broken_dag_file_does_not_stop_the_good_ones(
    engine: Engine, dags_folder: Path, processes: Processes,
) -> None:
    # Given: a DAG file that raises at import (line 8) next to a good one, and a scheduler
    install_dag(dags_folder, "core_broken.py")
    install_dag(dags_folder, "core_good.py")
    start_tandem(processes, "scheduler", env=FAST)

    # When: the scheduler's DAG processor has parsed the folder
    def parsed() -> bool:
        with engine.connect() as conn:
            return bool(conn.execute(sa.select(sa.func.count()).select_from(ImportError_)).scalar_one())

    wait_for(parsed, 30, message="the import error of core_broken.py to be recorded")

    # Then: list-import-errors names the file and the line
    errors = tandem_cli("dags", "list-import-errors", "-o", "json")
    assert errors.returncode == 0, errors.stderr
    (error,) = json.loads(errors.stdout)
    assert error["filename"] == "core_broken.py"
    assert "line 8" in error["error"] or "core_broken.py:8" in error["error"]
    assert "RuntimeError: core_broken fails at import on purpose" in error["error"]
    table = tandem_cli("dags", "list-import-errors")
    assert "core_broken.py" in table.stdout

    # And: dags list still lists the good DAG (and not the broken one)
    listing = tandem_cli("dags", "list", "-o", "json")
    assert listing.returncode == 0, listing.stderr
    assert [d["dag_id"] for d in json.loads(listing.stdout)] == ["core_good"]

    # And: the scheduler still runs the good DAG
    run = tandem_cli("dags", "trigger", "core_good", "--wait", "--poll-interval", "0.2")
    assert run.returncode == 0, run.stderr


@pytest.mark.slow
def test_a_second_scheduler_on_sqlite_refuses_to_start(engine: Engine, processes: Processes) -> None:
    # Given: a scheduler running against the SQLite database
    first = start_tandem(processes, "scheduler", env=FAST)

    def registered() -> bool:
        with engine.connect() as conn:
            return bool(conn.execute(sa.select(Node.id).where(Node.pid == first.pid, Node.state == "running")).all())

    wait_for(registered, 20, message="the first scheduler to register its node")

    # When: a second scheduler starts against the same database
    second = tandem_cli("scheduler", env=FAST, timeout=30)

    # Then: it refuses (exit 1), naming SQLite and what to use instead; the first one runs on
    assert second.returncode == 1, second.stderr
    message = second.stderr.splitlines()[-1]
    assert message.startswith("Error: ")
    assert "SQLite" in message
    assert "PostgreSQL" in message and "MySQL" in message
    assert str(first.pid) in message
    assert first.poll() is None
    with engine.connect() as conn:
        roles = conn.execute(sa.select(Node.role, Node.state).where(Node.role == "scheduler")).all()
    assert roles == [("scheduler", "running")]


def json_listing(stdout: str) -> list[dict[str, object]]:
    """The JSON array ``-o json`` printed last; ``dags test`` runs tasks in-process, and their
    prints come first on the same stdout."""
    start = 0 if stdout.startswith("[") else stdout.rindex("\n[") + 1
    return json.loads(stdout[start:])


@pytest.mark.parametrize("dag_id", EXAMPLES)
def test_dags_test_runs_every_example_dag_as_documented(
    dag_id: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # Given: the shipped example DAGs, paused as new DAGs are by default (`dags test` ignores that)
    monkeypatch.setenv("TANDEM__CORE__LOAD_EXAMPLES", "true")
    monkeypatch.setenv("TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION", "true")
    reset_settings()

    # When: one whole run is driven in-process
    code = main(["dags", "test", dag_id, "-o", "json"])

    # Then: it ends as the example says: example_failure fails (exit 3), every other one succeeds
    out = capsys.readouterr()
    rows = json_listing(out.out)
    states = {(r["task_id"], r["map_index"]): r["state"] for r in rows}
    assert rows, out.err
    if dag_id in FAIL_ON_PURPOSE:
        assert code == 3, out.err
        assert "failed" in states.values()
        assert f"DAG run of {dag_id} failed" in out.err
    else:
        assert code == 0, (out.err, states)
        assert set(states.values()) <= {"success", "skipped"}, states
        assert "DAG run success" in out.err
    with engine.connect() as conn:
        runs = conn.execute(sa.select(DagRun.dag_id, DagRun.state)).all()
    assert runs == [(dag_id, "failed" if dag_id in FAIL_ON_PURPOSE else "success")]


def test_dags_test_runs_only_the_dag_it_was_given(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # Given: the example DAGs, unpaused; example_bash (@daily) and example_groups (hourly) are due
    monkeypatch.setenv("TANDEM__CORE__LOAD_EXAMPLES", "true")
    monkeypatch.setenv("TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION", "false")
    reset_settings()

    # When: one DAG is tested
    assert main(["dags", "test", "example_taskflow"]) == 0

    # Then: only that DAG ran; no scheduled run of another DAG was created or executed here
    with engine.connect() as conn:
        runs = conn.execute(sa.select(DagRun.dag_id, DagRun.run_type)).all()
    assert runs == [("example_taskflow", "manual")]
    assert "Hello from example_bash" not in capsys.readouterr().out
