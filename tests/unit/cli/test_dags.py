from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tandem.dag_processing.bundles.lease import take_lease
from tandem.db.session import session_scope
from tandem.models import DagModel, DagRun, SerializedDagModel, TaskInstance, utcnow

from .conftest import CHAIN_DAG, FAILING_DAG, Cli, add_run, write_dag


@pytest.fixture
def chain(dags_folder: Path, engine: Engine) -> Path:
    return write_dag(dags_folder, "chain.py", CHAIN_DAG)


def test_list_parses_the_folder_before_any_processor_ran(cli: Cli, chain: Path, engine: Engine) -> None:
    # When
    result = cli("dags", "list", "-o", "json")

    # Then
    assert result.code == 0 and "Parsing DAG files..." in result.err
    [row] = json.loads(result.out)
    assert row["dag_id"] == "chain" and row["fileloc"] == "chain.py"
    assert (row["is_paused"], row["schedule"], row["tags"]) == (True, "@daily", "demo")
    assert row["next_run"] is not None


def test_list_import_errors(cli: Cli, dags_folder: Path, engine: Engine) -> None:
    write_dag(dags_folder, "broken.py", "# tandem dag\nraise RuntimeError('nope')\n")
    cli("dags", "list")
    errors = json.loads(cli("dags", "list-import-errors", "-o", "json").out)
    assert [e["filename"] for e in errors] == ["broken.py"] and "nope" in errors[0]["error"]


def test_pause_and_unpause_parse_first(cli: Cli, chain: Path, engine: Engine) -> None:
    unpaused = cli("dags", "unpause", "chain")
    assert unpaused.code == 0 and unpaused.out == "DAG chain unpaused\n"
    with session_scope(engine) as session:
        assert session.get(DagModel, "chain").is_paused is False  # type: ignore[union-attr]
    assert cli("dags", "pause", "chain").out == "DAG chain paused\n"
    with session_scope(engine) as session:
        assert session.get(DagModel, "chain").is_paused is True  # type: ignore[union-attr]


def test_unknown_dag_is_an_error(cli: Cli, engine: Engine) -> None:
    for args in (("dags", "pause", "nope"), ("dags", "trigger", "nope"), ("dags", "show", "nope"),
                 ("tasks", "list", "nope"), ("dags", "delete", "nope", "-y")):
        result = cli(*args)
        assert result.code == 1, args
        assert "Error: DAG 'nope' not found" in result.err and "Traceback" not in result.err


def test_show_text_and_dot(cli: Cli, chain: Path, engine: Engine) -> None:
    text = cli("dags", "show", "chain").out.splitlines()
    dot = cli("dags", "show", "chain", "--format", "dot").out
    assert [line.split()[0] for line in text[1:]] == ["first", "echo", "last"]
    assert text[2].endswith("<- first")
    assert dot.startswith('digraph "chain" {') and '"first" -> "echo";' in dot and '"echo" -> "last";' in dot


def test_trigger_prints_run_id_and_stores_conf(cli: Cli, chain: Path, engine: Engine) -> None:
    # When
    result = cli("dags", "trigger", "chain", "--conf", '{"n": 5}', "--run-id", "r1",
                 "--logical-date", "2024-06-01T00:00:00+00:00")

    # Then
    assert result.code == 0 and result.out == "r1\n" and "paused" in result.err
    with session_scope(engine) as session:
        run = session.query(DagRun).filter_by(dag_id="chain", run_id="r1").one()
        assert run.conf == {"n": 5} and run.state == "queued" and run.logical_date.isoformat().startswith("2024-06-01")
        assert session.query(TaskInstance).filter_by(run_id="r1").count() == 3
    again = cli("dags", "trigger", "chain", "--run-id", "r1")
    assert again.code == 1 and "already has a run" in again.err


@pytest.mark.parametrize(("conf", "message"), [
    ('{"n": ', "--conf is not valid JSON"),
    ("[1, 2]", "--conf must be a JSON object"),
    ('{"n": "five"}', "'n'"),
])
def test_trigger_rejects_bad_conf(cli: Cli, chain: Path, engine: Engine, conf: str, message: str) -> None:
    result = cli("dags", "trigger", "chain", "--conf", conf)
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith("Error:") and message in result.err
    assert "Traceback" not in result.err
    with session_scope(engine) as session:
        assert session.query(DagRun).count() == 0


def test_trigger_rejects_bad_logical_date(cli: Cli, chain: Path, engine: Engine) -> None:
    result = cli("dags", "trigger", "chain", "--logical-date", "yesterday")
    assert result.code == 1 and "not an ISO 8601" in result.err


def test_delete_removes_every_row(cli: Cli, chain: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a parsed DAG with a run
    cli("dags", "list")
    add_run(engine, "chain", "r1", tis={"first": ("success", 1)})

    # When the user first declines, then confirms
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    declined = cli("dags", "delete", "chain")
    deleted = cli("dags", "delete", "chain", "-y")

    # Then
    assert declined.code == 1 and deleted.code == 0
    with session_scope(engine) as session:
        for model in (DagModel, SerializedDagModel, DagRun, TaskInstance):
            assert session.query(model).count() == 0, model


# Needs tandem.scheduler.inprocess (in-process run driver).
def test_dags_test_runs_the_whole_dag(cli: Cli, chain: Path, dags_folder: Path, engine: Engine) -> None:
    cli("pools", "set", "p1", "1", "the pool of the echo task")
    ok = cli("dags", "test", "chain", "-o", "json")
    write_dag(dags_folder, "failing.py", FAILING_DAG)
    failed = cli("dags", "test", "failing", "-o", "json")

    assert ok.code == 0
    assert {r["task_id"]: r["state"] for r in json.loads(ok.out)} == {
        "first": "success", "echo": "success", "last": "success"}
    assert failed.code == 3 and json.loads(failed.out)[0]["state"] == "failed"
    assert "Error: DAG run of failing failed" in failed.err


def test_wait_for_run_reports_task_counts(cli: Cli, engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    from tandem.cli.dags import wait_for_run

    add_run(engine, "d", "r1", state="failed", tis={"a": ("success", 1), "b": ("failed", 1), "c": ("failed", 2)})
    capsys.readouterr()
    assert wait_for_run(engine, "d", "r1", poll_interval=0.05) == "failed"
    assert capsys.readouterr().err == "failed: 1 success, 2 failed\n"


def test_bundles_are_listed_with_their_versions(cli: Cli, chain: Path, engine: Engine) -> None:
    [dag] = json.loads(cli("dags", "list", "-o", "json").out)
    [bundle] = json.loads(cli("bundles", "list", "-o", "json").out)
    assert (bundle["name"], bundle["kind"], bundle["dags"]) == ("dags-folder", "local", 1)
    assert dag["bundle"] == f"dags-folder@{bundle['latest_version'][:12]}"
    [version] = json.loads(cli("bundles", "versions", "dags-folder", "-o", "json").out)
    assert (version["version"], version["files"], version["runs"]) == (bundle["latest_version"], 1, 0)
    assert "Deleted 0 version(s)" in cli("bundles", "gc").out
    assert cli("bundles", "--help").code == 0


def test_trigger_waits_for_a_running_processor_that_holds_the_bundle(
    cli: Cli, chain: Path, engine: Engine
) -> None:
    # Given a DAG processor elsewhere that holds the folder's bundle and has not stored the DAG yet
    from tandem.config import get_settings
    from tandem.dag_processing.processor import DagFileProcessor

    settings = get_settings()
    peer = DagFileProcessor(settings, engine)
    [bundle] = peer.bundles
    with session_scope(engine) as session:
        assert take_lease(session, bundle, peer.owner, 60)

    def store_later() -> None:
        time.sleep(1.0)
        peer.run_once(utcnow())

    storer = threading.Thread(target=store_later)
    storer.start()
    try:
        # When a run of a DAG that a file names is triggered, and one of a DAG no file names
        started = time.monotonic()
        typo = cli("dags", "trigger", "no_such_dag")
        typo_took = time.monotonic() - started
        result = cli("dags", "trigger", "chain")
    finally:
        storer.join()
        peer.release()

    # Then the typo fails at once, and the named DAG is waited for until the peer stores it
    assert typo.code != 0 and "not found" in typo.err and typo_took < 5, typo.err
    assert result.code == 0, result.err
    assert "Waiting for the running DAG processor" in result.err
    with session_scope(engine) as session:
        assert session.query(DagRun).filter_by(dag_id="chain").count() == 1
