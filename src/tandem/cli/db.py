"""``tandem db``: create, upgrade, check and reset the metadata database schema."""

from __future__ import annotations

import click
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cli.common import CliError, handle_errors, settings


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
    from tandem.db.migrate import migrate as run_migrations

    eng = _engine()
    _revision(eng)  # fail with a clear message when the DB is unreachable
    before, after = run_migrations(eng)
    if before == after:
        click.echo(f"Database schema is already current ({after}).")
    else:
        click.echo(f"Migrated the database schema from {before or 'empty'} to {after}.")


@db.command()
@handle_errors
def check() -> None:
    """Exit 0 when the schema is current, 1 (with what to run) when it is not."""
    from tandem.db.migrate import head_revision

    eng = _engine()
    current, head = _revision(eng), head_revision()
    if current != head:
        raise CliError(f"the database schema is at {current or 'nothing (empty database)'}, "
                       f"not {head}: run `tandem db migrate`")
    click.echo(f"Database schema is current ({current}).")


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


def register(cli: click.Group) -> None:
    cli.add_command(db)
