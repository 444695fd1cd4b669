"""``tandem tasks``: list a DAG's tasks, show and clear task instances, run one task by hand."""

from __future__ import annotations

from typing import Any

import click

from tandem.cli.common import CliError, engine, handle_errors, settings
from tandem.cli.dags import parse_conf, parse_logical_date, require_dag
from tandem.cli.output import output_option, render
from tandem.db.session import session_scope
from tandem.models import queries

TI_COLUMNS = ["task_id", "map_index", "state", "try_number", "start_date", "end_date"]


@click.group()
def tasks() -> None:
    """List tasks, show and clear task instances, run a task by hand."""


@tasks.command("list")
@click.argument("dag_id")
@output_option
@handle_errors
def list_tasks(dag_id: str, output: str) -> None:
    """List a DAG's tasks in topological order."""
    data = require_dag(settings(), engine(), dag_id)
    json_out = output == "json"
    rows = [{
        "task_id": t["task_id"], "operator": t.get("operator", ""),
        # A list in JSON, a readable string in a table.
        "upstream": list(t["upstream"]) if json_out else ", ".join(t["upstream"]),
        "trigger_rule": t.get("trigger_rule"), "retries": t.get("retries", 0),
        "pool": t.get("pool") or "default_pool", "queue": t.get("queue") or "default",
    } for t in data["tasks"]]
    render(rows, ["task_id", "operator", "upstream", "trigger_rule", "retries", "pool", "queue"], output)


def _require_run(dag_id: str, run_id: str) -> None:
    with session_scope(engine()) as session:
        if queries.read_dag_run(session, dag_id, run_id) is None:
            raise LookupError(f"DAG run {dag_id}/{run_id} not found")


@tasks.command("states-for-dag-run")
@click.argument("dag_id")
@click.argument("run_id")
@output_option
@handle_errors
def states_for_dag_run(dag_id: str, run_id: str, output: str) -> None:
    """Show the state of every task instance of a DAG run."""
    _require_run(dag_id, run_id)
    with session_scope(engine()) as session:
        rows = [{c: getattr(ti, c) for c in TI_COLUMNS}
                for ti in queries.list_task_instances(session, dag_id, run_id)]
    render(rows, TI_COLUMNS, output, empty="The run has no task instances.")


@tasks.command()
@click.argument("dag_id")
@click.option("-t", "--task-regex", help="Only tasks whose id matches this regular expression.")
@click.option("-d", "--downstream", is_flag=True, help="Also clear the tasks downstream of the chosen ones.")
@click.option("-r", "--run-id", "run_ids", multiple=True, help="Only this run (repeatable); default all runs.")
@click.option("-f", "--only-failed", is_flag=True, help="Only failed and upstream_failed task instances.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Only list what would be cleared.")
@handle_errors
def clear(dag_id: str, task_regex: str | None, downstream: bool, run_ids: tuple[str, ...], only_failed: bool,
          yes: bool, dry_run: bool) -> None:
    """Clear task instances so that the scheduler runs them again."""
    import re

    from tandem.orchestration.actions import clear_task_instances, select_task_ids

    cfg, eng = settings(), engine()
    require_dag(cfg, eng, dag_id)
    if task_regex is not None:
        try:
            re.compile(task_regex)
        except re.error as e:
            raise CliError(f"--task-regex {task_regex!r} is not a valid regular expression: {e}") from None
    scope: dict[str, Any] = {"run_ids": list(run_ids) or None, "only_failed": only_failed}
    with session_scope(eng) as session:
        task_ids = select_task_ids(session, dag_id, task_regex=task_regex, downstream=downstream)
        matched = clear_task_instances(session, dag_id, task_ids=task_ids, dry_run=True, **scope)
    if not matched:
        click.echo("No task instances to clear.")
        return
    matched.sort(key=lambda k: (k.run_id, k.task_id, k.map_index))
    render([k._asdict() for k in matched], ["run_id", "task_id", "map_index"], "table")
    if dry_run:
        return
    if not yes:
        click.confirm(f"Clear these {len(matched)} task instance(s)?", abort=True, err=True)
    with session_scope(eng) as session:
        cleared = clear_task_instances(session, dag_id, task_ids=task_ids, **scope)
    click.echo(f"Cleared {len(cleared)} task instance(s).")


@tasks.command("test")
@click.argument("dag_id")
@click.argument("task_id")
@click.option("-l", "--logical-date", help="ISO 8601 logical date; default now.")
@click.option("-c", "--conf", help="JSON object used as dag_run.conf.")
@click.option("--map-index", type=int, default=-1, show_default=True, help="Map index of a mapped task.")
@handle_errors
def test_task(dag_id: str, task_id: str, logical_date: str | None, conf: str | None, map_index: int) -> None:
    """Run one task here, ignoring its dependencies and recording nothing in the DB."""
    from tandem.runner.testing import test_task as run_test

    cfg, eng = settings(), engine()
    conf_dict, when = parse_conf(conf), parse_logical_date(logical_date, cfg)
    require_dag(cfg, eng, dag_id)
    state = run_test(eng, dag_id, task_id, logical_date=when, conf=conf_dict, map_index=map_index)
    if state == "failed":
        raise CliError(f"task {task_id} failed")
    click.echo(f"Task {task_id} {state}", err=True)


@tasks.command("run")
@click.argument("dag_id")
@click.argument("run_id")
@click.argument("task_id")
@click.option("--map-index", type=int, default=-1, show_default=True, help="Map index of a mapped task.")
@handle_errors
def run_task(dag_id: str, run_id: str, task_id: str, map_index: int) -> None:
    """Run a task instance's next try in this process, through the real runner; exit 1 if it failed."""
    from tandem.orchestration.transition import TiKey
    from tandem.runner.testing import run_task_instance

    cfg, eng = settings(), engine()
    _require_run(dag_id, run_id)
    final = run_task_instance(eng, cfg, TiKey(dag_id, run_id, task_id, map_index))
    click.echo(final or "not run (another runner took the try)")
    if final not in ("success", "skipped"):
        raise CliError(f"task instance {dag_id}/{run_id}/{task_id} ended {final or 'not run'}")


@tasks.command("run-workload")
@click.argument("workload")
@handle_errors
def run_workload(workload: str) -> None:
    """Run the try WORKLOAD (base64url JSON, as a Kubernetes worker pod is given it) through the
    runner: claim it, run it, record it. Exit 1 if the try failed."""
    from tandem.executors.kubernetes.pod import decode_command_workload
    from tandem.executors.kubernetes.pod_runner import CLEAN_ENDS, run_in_pod

    try:
        parsed = decode_command_workload(workload)
    except ValueError as e:
        raise CliError(f"WORKLOAD: {e}") from None
    cfg = settings()
    engine()  # fail early and clearly when the metadata DB is unreachable or not migrated
    detail = run_in_pod(parsed, cfg)
    click.echo(f"{parsed}: {detail}", err=True)
    if detail not in CLEAN_ENDS:
        raise CliError(f"{parsed} ended {detail}")


def register(cli: click.Group) -> None:
    cli.add_command(tasks)
