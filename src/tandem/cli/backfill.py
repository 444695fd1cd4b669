"""``tandem backfill``: create (or preview), list, pause, unpause and cancel backfills."""

from __future__ import annotations

import getpass
from typing import Any

import click

from tandem.cli.common import CliError, engine, handle_errors, settings
from tandem.cli.dags import parse_conf, parse_logical_date
from tandem.cli.output import output_option, render
from tandem.db.session import session_scope

BACKFILL_COLUMNS = ["id", "dag_id", "state", "from_date", "to_date", "max_active_runs", "reprocess_behavior",
                    "run_backwards", "queued", "running", "success", "failed", "skipped", "created_at",
                    "completed_at"]


@click.group()
def backfill() -> None:
    """Run a DAG over a past date range (Airflow 3 backfills), run by the schedulers."""


def _row(backfill: Any, progress: Any) -> dict[str, Any]:
    from tandem.backfill.progress import backfill_state

    row = {c: getattr(backfill, c, None) for c in BACKFILL_COLUMNS}
    row.update(state=backfill_state(backfill), skipped=progress.skipped,
               **{s: progress.states.get(s, 0) for s in ("queued", "running", "success", "failed")})
    return row


def _date(text: str, option: str) -> Any:
    value = parse_logical_date(text, settings())
    if value is None:
        raise CliError(f"{option} is required")
    return value


@backfill.command("create")
@click.option("--dag-id", required=True, help="The DAG to backfill.")
@click.option("--from-date", required=True, help="First logical date (ISO 8601; no zone: core.default_timezone).")
@click.option("--to-date", required=True, help="Last logical date, included (ISO 8601).")
@click.option("--max-active-runs", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Most of the backfill's runs running at once (the DAG's own limit holds too).")
@click.option("--reprocess-behavior", type=click.Choice(["none", "failed", "completed"]), default="none",
              show_default=True, help="Dates that already have a finished run: keep them, re-run the failed "
                                      "ones, or re-run them all.")
@click.option("--run-backwards", is_flag=True, help="Start the latest dates first.")
@click.option("--conf", help="JSON object given to every run as its conf.")
@click.option("--dry-run", is_flag=True, help="Only list the runs it would make.")
@output_option
@handle_errors
def create(dag_id: str, from_date: str, to_date: str, max_active_runs: int, reprocess_behavior: str,
           run_backwards: bool, conf: str | None, dry_run: bool, output: str) -> None:
    """Create a backfill: one queued run per scheduled date in the range; schedulers start them."""
    from tandem.backfill import (
        BackfillError,
        BackfillRequest,
        ReprocessBehavior,
        create_backfill,
        plan_backfill,
    )
    from tandem.backfill.progress import read_progress

    request = BackfillRequest(dag_id=dag_id, from_date=_date(from_date, "--from-date"),
                              to_date=_date(to_date, "--to-date"), max_active_runs=max_active_runs,
                              reprocess_behavior=ReprocessBehavior(reprocess_behavior), run_backwards=run_backwards,
                              dag_run_conf=parse_conf(conf), triggering_user_name=getpass.getuser())
    try:
        with session_scope(engine()) as session:
            if dry_run:
                plan = plan_backfill(session, request)
                rows = [{"logical_date": p.logical_date, "data_interval_start": p.data_interval_start,
                         "data_interval_end": p.data_interval_end, "action": p.action, "reason": p.reason or "",
                         "existing_run_id": p.run_id or ""} for p in plan]
                render(rows, ["logical_date", "data_interval_start", "data_interval_end", "action", "reason",
                              "existing_run_id"], output, empty="No dates to run in that range.")
                return
            created = create_backfill(session, request)
            row = _row(created, read_progress(session, [created.id])[created.id])
    except BackfillError as e:
        raise CliError(str(e)) from None
    render([row], BACKFILL_COLUMNS, output)


@backfill.command("list")
@click.option("-d", "--dag-id", help="Only backfills of this DAG.")
@click.option("--active", is_flag=True, help="Only backfills that have not ended.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="At most this many.")
@output_option
@handle_errors
def list_(dag_id: str | None, active: bool, limit: int, output: str) -> None:
    """List backfills, newest first, with their runs by state."""
    from tandem.backfill.progress import list_backfills, read_progress

    with session_scope(engine()) as session:
        rows, _ = list_backfills(session, dag_id=dag_id, active=True if active else None, limit=limit)
        progress = read_progress(session, [r.id for r in rows])
        out = [_row(r, progress[r.id]) for r in rows]
    render(out, BACKFILL_COLUMNS, output, empty="No backfills found.")


def _change(backfill_id: int, verb: str) -> None:
    from tandem.backfill import BackfillError, cancel_backfill, set_backfill_paused

    try:
        with session_scope(engine()) as session:
            if verb == "cancel":
                cancel_backfill(session, backfill_id)
            else:
                set_backfill_paused(session, backfill_id, verb == "pause")
    except BackfillError as e:
        raise CliError(str(e)) from None
    done = {"pause": "paused", "unpause": "unpaused", "cancel": "cancelled"}[verb]
    click.echo(f"Backfill {backfill_id} {done}.")


@backfill.command("pause")
@click.argument("backfill_id", type=click.IntRange(min=1))
@handle_errors
def pause(backfill_id: int) -> None:
    """Start no more of its runs; those running finish."""
    _change(backfill_id, "pause")


@backfill.command("unpause")
@click.argument("backfill_id", type=click.IntRange(min=1))
@handle_errors
def unpause(backfill_id: int) -> None:
    """Let a paused backfill start its runs again."""
    _change(backfill_id, "unpause")


@backfill.command("cancel")
@click.argument("backfill_id", type=click.IntRange(min=1))
@handle_errors
def cancel(backfill_id: int) -> None:
    """End a backfill: its queued runs fail, its running runs finish."""
    _change(backfill_id, "cancel")


def register(cli: click.Group) -> None:
    cli.add_command(backfill)
