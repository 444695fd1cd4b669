"""``tandem db``: create, upgrade, check and reset the metadata database schema."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cli.common import CliError, handle_errors, settings

if TYPE_CHECKING:
    from tandem.db.merge import MergeReport, MergeSource


def _engine() -> Engine:
    """The configured engine, without the schema check of ``common.engine()``.

    These commands are how a missing or outdated schema gets fixed, so they must not
    refuse to start because of one.
    """
    from tandem.db.engine import get_engine

    return get_engine(settings().database_url)


def _revision(eng: Engine) -> str | None:
    from tandem.db.migrate import current_revision

    try:
        return current_revision(eng)
    except sa.exc.OperationalError as e:
        raise CliError(f"cannot reach the metadata database {eng.url!r}: {str(e.orig).strip()}") from None


@click.group()
def db() -> None:
    """Manage the metadata database schema."""


@db.command()
@handle_errors
def migrate() -> None:
    """Create or upgrade the schema to the newest revision (safe to run again)."""
    from tandem.db.dialects import MigrationLockTimeout
    from tandem.db.migrate import migrate as run_migrations

    eng = _engine()
    _revision(eng)  # fail with a clear message when the DB is unreachable
    try:
        before, after = run_migrations(eng, settings())
    except MigrationLockTimeout as e:
        raise CliError(f"{e}: try again once it is done (database.migration_lock_timeout)") from None
    if before == after:
        click.echo(f"Database schema is already current ({after}).")
    else:
        click.echo(f"Migrated the database schema from {before or 'empty'} to {after}.")


@db.command()
@handle_errors
def check() -> None:
    """Exit 0 when the schema is current, 1 (with what to run) when it is not."""
    from tandem.db.migrate import schema_problem

    eng = _engine()
    current = _revision(eng)
    problem = schema_problem(eng)
    if problem is not None:
        raise CliError(problem)
    click.echo(f"Database schema is current ({current}).")


@db.command()
@click.argument("revision")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def downgrade(revision: str, yes: bool) -> None:
    """Downgrade the schema to REVISION (`base`: drop every table), to go back to an older Tandem."""
    from tandem.db.dialects import MigrationLockTimeout
    from tandem.db.migrate import downgrade as run_downgrade

    eng = _engine()
    before = _revision(eng)
    if not yes:
        click.confirm(f"Downgrading from {before} to {revision} may drop tables and data. Continue?",
                      abort=True, err=True)
    try:
        run_downgrade(eng, revision, settings())
    except MigrationLockTimeout as e:
        raise CliError(f"{e}: try again once it is done (database.migration_lock_timeout)") from None
    click.echo(f"Downgraded the database schema from {before} to {_revision(eng) or 'empty'}.")


@db.command()
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def reset(yes: bool) -> None:
    """Drop every Tandem table (all DAG runs, variables, connections...) and recreate the schema."""
    from tandem.db.migrate import reset as reset_schema

    eng = _engine()
    _revision(eng)
    if not yes:
        click.confirm(f"This deletes ALL data in {eng.url!r}. Continue?", abort=True, err=True)
    reset_schema(eng)
    click.echo(f"Database reset; schema is at {_revision(eng)}.")


class _MergeProgress:
    """Progress of big tables on stderr, so stdout stays the plan and the summary."""

    MIN_ROWS = 1000

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.tty = sys.stderr.isatty()
        self.last_tenth: dict[str, int] = {}

    def __call__(self, table: str, done: int, total: int) -> None:
        if total < self.MIN_ROWS:
            return
        line = f"{self.verb} {table}: {done}/{total} rows"
        if self.tty:  # one line, rewritten in place
            click.echo(f"\r{line}", err=True, nl=done >= total)
        elif (tenth := done * 10 // total) != self.last_tenth.get(table):  # logs: every 10 %
            self.last_tenth[table] = tenth
            click.echo(line, err=True)


def _print_merge_report(report: MergeReport, source: MergeSource, *, title: str) -> None:
    from tandem.cli.output import render

    columns = ["table", "key", "reason", "resolution"]
    if source.unconverted:
        click.echo(f"Not converted exactly from the {source.kind} ({len(source.unconverted)}):")
        render([vars(u) for u in source.unconverted], columns, "table")
        click.echo()
    if report.conflicts:
        click.echo(f"Conflicts ({len(report.conflicts)}):")
        render([vars(c) for c in report.conflicts], columns, "table")
        click.echo()
    click.echo(f"Not copied: {source.not_copied}.")
    if report.dag_stubs:
        click.echo(f"Paused placeholder dag rows for DAGs without one here: {', '.join(report.dag_stubs)}.")
    click.echo()
    click.echo(title)
    render(report.summary_rows(), ["table", "imported", "already present", "conflicts", "renamed"], "table")


@db.command()
@click.option("--from", "from_url", required=True, metavar="URL",
              help="Database URL of the other Tandem instance, or of an Apache Airflow 2.x/3.x metadata database.")
@click.option("--dry-run", is_flag=True, help="Print what would be imported and every conflict; write nothing.")
@click.option("--on-conflict", type=click.Choice(["fail", "skip", "rename"]), default="fail", show_default=True,
              help="fail: refuse the merge; skip: keep this side's row; rename: import under a new key.")
@click.option("--from-fernet-key", "--airflow-fernet-key", "from_fernet_key", metavar="KEY",
              help="Fernet key of the other instance (Airflow: its [core] fernet_key, comma-separated if rotated); "
                   "asked for, hidden, when needed and not given.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def merge(from_url: str, dry_run: bool, on_conflict: str, from_fernet_key: str | None, yes: bool) -> None:
    """Import another instance's DAG runs, task history, variables, connections, pools and users.

    The other instance is a Tandem instance or an Apache Airflow 2.x/3.x one (recognized by its
    tables). One transaction: the merge applies completely or not at all. Rows equal to this
    side's are skipped as already present, so running it again imports nothing twice.
    """
    from tandem.db.merge import MergeError, apply_merge, open_merge_source, plan_merge

    target_key = settings().core.fernet_key or None
    target = _engine()
    try:
        with open_merge_source(from_url, target, from_fernet_key, target_key, ask=lambda: click.prompt(
                "Fernet key of the other instance", hide_input=True, err=True)) as source:
            plan = plan_merge(source.engine, target, on_conflict, source.secrets, _MergeProgress("Reading"))
            if dry_run:
                _print_merge_report(plan, source, title="Dry run, nothing was written. Would import:")
                return
            if plan.conflicts and on_conflict == "fail":
                _print_merge_report(plan, source, title="Nothing was written. What the merge would do:")
                raise CliError(f"{len(plan.conflicts)} conflict(s) with this database: nothing was written; "
                               "use --on-conflict skip (keep this side's rows) or rename")
            if not plan.imported:
                _print_merge_report(plan, source, title="Nothing to import: everything is already here.")
                return
            if not yes:
                click.confirm(f"Import {plan.imported} row(s) from {source.kind} {from_url!r} into {target.url!r}?",
                              abort=True, err=True)
            report = apply_merge(source.engine, target, on_conflict, source.secrets, _MergeProgress("Importing"))
            _print_merge_report(report, source,
                                title=f"Merged {source.kind} into {target.url!r} in one transaction:")
    except MergeError as e:
        raise CliError(str(e)) from None


def register(cli: click.Group) -> None:
    cli.add_command(db)
