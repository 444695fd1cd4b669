"""``tandem dags``: list, inspect, pause, trigger, test and delete DAGs."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy.engine import Engine

from tandem.cli.common import RET_RUN_FAILED, CliError, engine, handle_errors, settings
from tandem.cli.output import output_option, render
from tandem.config import Settings
from tandem.db.session import session_scope
from tandem.models import DagModel, queries

# Order in which task state counts are shown while waiting for a run.
_STATE_ORDER = ("success", "running", "queued", "scheduled", "up_for_retry", "deferred", "failed",
                "upstream_failed", "skipped", "removed", "none")


class RunFailed(CliError):
    """The DAG run ended failed: exit code 3, so scripts can tell it from a usage error."""

    exit_code = RET_RUN_FAILED


# --- helpers shared with tasks.py ---------------------------------------------------------


def parse_conf(text: str | None) -> dict[str, Any]:
    """``--conf`` as a dict; a clear error for anything but a JSON object."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise CliError(f"--conf is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise CliError(f"--conf must be a JSON object, not {type(value).__name__}: {text}")
    return value


def parse_logical_date(text: str | None, cfg: Settings) -> datetime | None:
    """An ISO 8601 date or datetime; without an offset it is in core.default_timezone."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--logical-date {text!r} is not an ISO 8601 date or datetime") from None
    if value.tzinfo is None:
        try:
            value = value.replace(tzinfo=ZoneInfo(cfg.core.default_timezone))
        except ZoneInfoNotFoundError:
            raise CliError(f"core.default_timezone {cfg.core.default_timezone!r} is not a known time zone") from None
    return value


def parse_dag_folder(cfg: Settings, eng: Engine) -> int:
    """Parse every DAG file now, so commands work before any DAG processor has run; return how
    many bundles were left to a running DAG processor that holds them."""
    from tandem.dag_processing.processor import parse_all

    click.echo("Parsing DAG files...", err=True)
    stats = parse_all(cfg, eng)
    if stats.import_errors:
        click.echo(f"{stats.import_errors} file(s) failed to import: see `tandem dags list-import-errors`",
                   err=True)
    return stats.bundles_elsewhere


def _known_dag(eng: Engine, dag_id: str) -> dict[str, Any] | None:
    with session_scope(eng) as session:
        data = queries.read_serialized_dag(session, dag_id)
        return data if data is not None and queries.read_dag(session, dag_id) is not None else None


def _mentioned(cfg: Settings, dag_id: str) -> bool:
    """Whether a DAG file names ``dag_id`` at all: a DAG no file names is not waited for (a typo
    fails at once), one a file names may still be on its way through a running processor."""
    from tandem.dag_processing.bundles.loader import load_bundles

    for bundle in load_bundles(cfg):
        root = bundle.root
        for path in root.rglob("*.py") if root.is_dir() else ():
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if dag_id in path.read_text(encoding="utf-8"):
                    return True
    return False


def require_dag(cfg: Settings, eng: Engine, dag_id: str) -> dict[str, Any]:
    """The serialized DAG; the folder is parsed once when the DB does not know it yet.

    A DAG processor that is running holds its bundles while it parses them (a scheduler just
    started, say): then the DAG is waited for, up to one file-processing timeout.
    """
    from tandem.scheduler.dagruns import DagNotFound

    data = _known_dag(eng, dag_id)
    if data is not None:
        return data
    if parse_dag_folder(cfg, eng) and _mentioned(cfg, dag_id):
        click.echo(f"Waiting for the running DAG processor to store DAG {dag_id!r}...", err=True)
        deadline = time.monotonic() + cfg.core.dag_file_processor_timeout
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if (data := _known_dag(eng, dag_id)) is not None:
                return data
    if (data := _known_dag(eng, dag_id)) is not None:
        return data
    raise DagNotFound(f"DAG {dag_id!r} not found in {cfg.dags_folder} (see `tandem dags list`)")


def relative_fileloc(fileloc: str, cfg: Settings) -> str:
    try:
        return str(Path(fileloc).relative_to(cfg.dags_folder.resolve()))
    except ValueError:
        return fileloc


# --- listing ------------------------------------------------------------------------------


@click.group()
def dags() -> None:
    """List, inspect, pause, trigger, test and delete DAGs."""


def _dag_row(dag: DagModel, cfg: Settings) -> dict[str, Any]:
    return {"dag_id": dag.dag_id, "fileloc": relative_fileloc(dag.fileloc, cfg), "owners": dag.owners,
            "is_paused": dag.is_paused, "schedule": dag.timetable_summary, "next_run": dag.next_dagrun,
            "tags": ", ".join(dag.tags or []), "is_active": dag.is_active,
            "bundle": f"{dag.bundle_name}@{(dag.bundle_version or '')[:12]}" if dag.bundle_name else ""}


@dags.command("list")
@output_option
@click.option("--include-inactive", is_flag=True, help="Also list DAGs whose file is gone.")
@click.option("--no-parse", is_flag=True, help="List what the DB holds, without parsing the DAG folder first.")
@handle_errors
def list_dags(output: str, include_inactive: bool, no_parse: bool) -> None:
    """List DAGs (the DAG folder is parsed first, as Airflow does, so the list is current)."""
    cfg, eng = settings(), engine()
    if not no_parse:
        parse_dag_folder(cfg, eng)
    with session_scope(eng) as session:
        rows = [_dag_row(d, cfg) for d in queries.list_dags(session, include_inactive=include_inactive)]
    columns = ["dag_id", "bundle", "fileloc", "owners", "is_paused", "schedule", "next_run", "tags"]
    render(rows, columns + (["is_active"] if include_inactive else []), output, empty="No DAGs found.")


@dags.command("list-import-errors")
@output_option
@handle_errors
def list_import_errors(output: str) -> None:
    """List DAG files that failed to import, with the error."""
    cfg = settings()
    with session_scope(engine()) as session:
        rows = [{"filename": relative_fileloc(e.filename, cfg), "error": e.stacktrace}
                for e in queries.list_import_errors(session)]
    render(rows, ["filename", "error"], output, empty="No import errors.")


@dags.command("list-runs")
@click.option("-d", "--dag-id", required=True, help="The DAG whose runs to list.")
@click.option("--state", help="Only runs in this state (queued, running, success, failed).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="At most this many.")
@output_option
@handle_errors
def list_runs(dag_id: str, state: str | None, limit: int, output: str) -> None:
    """List a DAG's runs, newest first (same as `tandem runs list -d DAG`)."""
    from tandem.cli.runs import show_runs

    show_runs(dag_id=dag_id, state=state, limit=limit, output=output)


# --- graph --------------------------------------------------------------------------------


def graph_text(data: dict[str, Any]) -> str:
    """Tasks in topological order (as serialized), each with its upstream tasks."""
    width = max((len(t["task_id"]) for t in data["tasks"]), default=0)
    lines = [f"DAG {data['dag_id']}"]
    for t in data["tasks"]:
        upstream = ", ".join(t["upstream"])
        lines.append(f"  {t['task_id']:<{width}}  ({t.get('operator', '')})"
                     + (f"  <- {upstream}" if upstream else ""))
    return "\n".join(lines)


def _dot_id(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid quoted Graphviz id


def graph_dot(data: dict[str, Any]) -> str:
    lines = [f"digraph {_dot_id(data['dag_id'])} {{", "  rankdir=LR;", "  node [shape=box];"]
    lines += [f"  {_dot_id(t['task_id'])};" for t in data["tasks"]]
    lines += [f"  {_dot_id(u)} -> {_dot_id(t['task_id'])};" for t in data["tasks"] for u in t["upstream"]]
    return "\n".join([*lines, "}"])


@dags.command()
@click.argument("dag_id")
@click.option("--format", "fmt", type=click.Choice(["text", "dot"]), default="text", show_default=True,
              help="Plain text, or Graphviz dot (pipe to `dot -Tpng`).")
@handle_errors
def show(dag_id: str, fmt: str) -> None:
    """Print a DAG's task graph."""
    data = require_dag(settings(), engine(), dag_id)
    click.echo(graph_dot(data) if fmt == "dot" else graph_text(data))


# --- pause --------------------------------------------------------------------------------


def _set_paused(dag_ids: tuple[str, ...], paused: bool) -> None:
    cfg, eng = settings(), engine()
    for dag_id in dag_ids:
        require_dag(cfg, eng, dag_id)
        with session_scope(eng) as session:
            queries.set_dag_paused(session, dag_id, paused)
        click.echo(f"DAG {dag_id} {'paused' if paused else 'unpaused'}")


@dags.command()
@click.argument("dag_ids", metavar="DAG_ID...", nargs=-1, required=True)
@handle_errors
def pause(dag_ids: tuple[str, ...]) -> None:
    """Pause DAGs: no new runs are created and queued runs do not start."""
    _set_paused(dag_ids, True)


@dags.command()
@click.argument("dag_ids", metavar="DAG_ID...", nargs=-1, required=True)
@handle_errors
def unpause(dag_ids: tuple[str, ...]) -> None:
    """Unpause DAGs so the scheduler runs them."""
    _set_paused(dag_ids, False)


# --- trigger ------------------------------------------------------------------------------


def _progress_line(state: str, counts: dict[str, int]) -> str:
    known = [s for s in _STATE_ORDER if counts.get(s)] + sorted(set(counts) - set(_STATE_ORDER))
    return f"{state}: " + ", ".join(f"{counts[s]} {s}" for s in known)


def wait_for_run(eng: Engine, dag_id: str, run_id: str, poll_interval: float) -> str:
    """Block until the run is finished, printing a line on stderr at each change; return its state."""
    from tandem.state import RUN_TERMINAL

    last = ""
    while True:
        with session_scope(eng) as session:
            run = queries.read_dag_run(session, dag_id, run_id)
            if run is None:
                raise CliError(f"DAG run {dag_id}/{run_id} was deleted while waiting for it")
            counts = queries.count_task_states(session, dag_id, run_id)
        line = _progress_line(run.state, counts)
        if line != last:
            click.echo(line, err=True)
            last = line
        if run.state in RUN_TERMINAL:
            return run.state
        time.sleep(poll_interval)


@dags.command()
@click.argument("dag_id")
@click.option("-c", "--conf", help="JSON object passed to the run as dag_run.conf (checked against params).")
@click.option("-r", "--run-id", help="Run id; default manual__<logical date>.")
@click.option("-l", "--logical-date", help="ISO 8601 logical date; default now.")
@click.option("--wait", is_flag=True, help="Wait until the run ends; exit 3 if it failed.")
@click.option("--poll-interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
              help="Seconds between checks with --wait.")
@handle_errors
def trigger(dag_id: str, conf: str | None, run_id: str | None, logical_date: str | None, wait: bool,
            poll_interval: float) -> None:
    """Create a manual run of a DAG and print its run id."""
    from tandem.scheduler.dag_data import DagDataCache
    from tandem.scheduler.dagruns import trigger_dag_run

    cfg, eng = settings(), engine()
    conf_dict, when = parse_conf(conf), parse_logical_date(logical_date, cfg)
    require_dag(cfg, eng, dag_id)
    with session_scope(eng) as session:
        run = trigger_dag_run(session, DagDataCache(), dag_id, run_id=run_id, conf=conf_dict,
                              logical_date=when, triggered_by="cli")
        created, paused = run.run_id, bool(getattr(queries.read_dag(session, dag_id), "is_paused", False))
    click.echo(created)
    if paused:
        click.echo(f"Note: DAG {dag_id} is paused; the run starts once it is unpaused "
                   f"(`tandem dags unpause {dag_id}`).", err=True)
    if wait:
        state = wait_for_run(eng, dag_id, created, poll_interval)
        if state != "success":
            raise RunFailed(f"DAG run {created} of {dag_id} {state}")
        click.echo(f"DAG run {created} {state}", err=True)


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send what tasks print (from Python or from child processes) to stderr, so that stdout
    holds only the result table and ``-o json`` stays parseable."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


# --- delete and test ----------------------------------------------------------------------


@dags.command()
@click.argument("dag_id")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def delete(dag_id: str, yes: bool) -> None:
    """Delete a DAG's runs, task instances, XComs and DAG rows (its file is left alone)."""
    from tandem.scheduler.dagruns import DagNotFound

    eng = engine()
    with session_scope(eng) as session:
        if queries.read_dag(session, dag_id) is None:
            raise DagNotFound(f"DAG {dag_id!r} not found")
    if not yes:
        click.confirm(f"Delete DAG {dag_id} and all its runs and task instances?", abort=True, err=True)
    with session_scope(eng) as session:
        counts = queries.delete_dag(session, dag_id)
    click.echo(f"Deleted DAG {dag_id}: {counts.get('dag_run', 0)} run(s), "
               f"{counts.get('task_instance', 0)} task instance(s).")
    click.echo("Its file is parsed again (and the DAG re-created) unless you remove it.", err=True)


@dags.command("test")
@click.argument("dag_id")
@click.option("-c", "--conf", help="JSON object passed to the run as dag_run.conf.")
@click.option("-l", "--logical-date", help="ISO 8601 logical date; default now.")
@output_option
@handle_errors
def test_dag(dag_id: str, conf: str | None, logical_date: str | None, output: str) -> None:
    """Run one whole DAG run in this process, without a scheduler; exit 3 if it failed."""
    from tandem.scheduler.inprocess import run_dag_inprocess

    cfg, eng = settings(), engine()
    conf_dict, when = parse_conf(conf), parse_logical_date(logical_date, cfg)
    require_dag(cfg, eng, dag_id)
    with stdout_to_stderr():
        state, rows = run_dag_inprocess(eng, cfg, dag_id, conf=conf_dict, logical_date=when)
    render(rows, ["task_id", "map_index", "state", "try_number", "start_date", "end_date", "duration"], output)
    if state != "success":
        raise RunFailed(f"DAG run of {dag_id} {state}")
    click.echo(f"DAG run {state}", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(dags)
