"""``tandem connections|pools|variables import|export``: Airflow's JSON files.

The formats and checks are the API's (:mod:`tandem.api.queries.transfer`): a file with any bad
entry is refused whole, naming each. Run on a server, the CLI acts as an admin: a connections
export holds passwords in clear, so the file is created readable by its owner only.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.orm import Session

from tandem.api.queries import transfer as q
from tandem.cli.common import CliError, engine, handle_errors
from tandem.cli.connections import connections, secret_errors
from tandem.cli.pools import pools
from tandem.db.session import session_scope

on_existing_option = click.option(
    "-a", "--action-on-existing-key", "on_existing", type=click.Choice(list(q.ON_EXISTING)), default="overwrite",
    show_default=True, help="What to do with an entry that already exists.")


def _read(path: str, what: str) -> dict[str, Any]:
    try:
        with click.open_file(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None
    try:
        return q.parse_file(text, what)
    except q.ImportRejected as e:
        raise CliError(f"{path}: {e}") from None


def write_file(path: str, data: dict[str, Any], what: str) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise CliError(f"cannot write {path}: {e.strerror}") from None
    click.echo(f"Exported {len(data)} {what} to {path}", err=True)


def import_file(path: str, what: str, on_existing: str,
            writer: Callable[[Session, dict[str, Any], str], q.ImportResult]) -> None:
    data = _read(path, what)
    try:
        with session_scope(engine()) as session:
            result = writer(session, data, on_existing)
    except q.ImportRejected as e:
        raise CliError(f"{path}: {e}") from None
    click.echo(f"Imported {what} from {path}: {result.created} created, {result.updated} updated, "
               f"{result.skipped} skipped")


@connections.command("import")
@click.argument("file", metavar="FILE")
@on_existing_option
@handle_errors
@secret_errors
def import_connections(file: str, on_existing: str) -> None:
    """Import connections from a JSON file of conn_id -> fields ('-' reads stdin)."""
    import_file(file, "connections", on_existing, q.import_connections)


@connections.command("export")
@click.argument("file", metavar="FILE")
@handle_errors
@secret_errors
def export_connections(file: str) -> None:
    """Export every connection, passwords in clear, to a JSON file ('-' writes stdout)."""
    with session_scope(engine()) as session:
        data = q.export_connections(session, reveal=True)
    write_file(file, data, "connection(s)")


@pools.command("import")
@click.argument("file", metavar="FILE")
@on_existing_option
@handle_errors
def import_pools(file: str, on_existing: str) -> None:
    """Import pools from a JSON file of name -> {slots, description} ('-' reads stdin)."""
    import_file(file, "pools", on_existing, q.import_pools)


@pools.command("export")
@click.argument("file", metavar="FILE")
@handle_errors
def export_pools(file: str) -> None:
    """Export every pool to a JSON file ('-' writes stdout)."""
    with session_scope(engine()) as session:
        data = q.export_pools(session)
    write_file(file, data, "pool(s)")


def register(cli: click.Group) -> None:
    """The commands attach to the ``connections`` and ``pools`` groups when this module is imported."""
