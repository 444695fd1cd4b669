"""``tandem runs``: list DAG runs across DAGs."""

from __future__ import annotations

import click

from tandem.cli.common import engine, handle_errors
from tandem.cli.output import output_option, render
from tandem.db.session import session_scope
from tandem.models import queries
from tandem.state import DagRunState

RUN_COLUMNS = ["dag_id", "run_id", "state", "run_type", "logical_date", "start_date", "end_date", "scheduling_error"]


def show_runs(*, dag_id: str | None, state: str | None, limit: int, output: str) -> None:
    """Print runs, newest logical date first (also used by ``dags list-runs``)."""
    if state is not None and state not in {s.value for s in DagRunState}:
        raise ValueError(f"unknown DAG run state {state!r}; use one of "
                         + ", ".join(s.value for s in DagRunState))
    with session_scope(engine()) as session:
        rows = [{c: getattr(r, c) for c in RUN_COLUMNS}
                for r in queries.list_dag_runs(session, dag_id=dag_id, state=state, limit=limit)]
    render(rows, RUN_COLUMNS, output, empty="No DAG runs found.")


@click.group()
def runs() -> None:
    """Inspect DAG runs."""


@runs.command("list")
@click.option("-d", "--dag-id", help="Only runs of this DAG.")
@click.option("--state", help="Only runs in this state (queued, running, success, failed).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="At most this many.")
@output_option
@handle_errors
def list_runs(dag_id: str | None, state: str | None, limit: int, output: str) -> None:
    """List DAG runs, newest first."""
    show_runs(dag_id=dag_id, state=state, limit=limit, output=output)


def register(cli: click.Group) -> None:
    cli.add_command(runs)
