"""``tandem connections``: credentials for external systems; password and extra are encrypted."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import click

from tandem.cli.common import CliError, engine, handle_errors
from tandem.cli.output import output_option, render
from tandem.db.session import session_scope
from tandem.models import Connection, queries
from tandem.secrets_masker import MASK, SecretsMasker

F = TypeVar("F", bound=Callable[..., Any])
LIST_COLUMNS = ["conn_id", "conn_type", "description", "host", "port", "schema", "login"]
GET_COLUMNS = [*LIST_COLUMNS, "password", "extra"]


def secret_errors(func: F) -> F:
    """A missing fernet key is a configuration problem: say so in one line."""
    from tandem.crypto import FernetKeyMissing

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FernetKeyMissing as e:
            raise CliError(str(e)) from None

    return wrapper  # type: ignore[return-value]


def parse_connection_uri(uri: str) -> dict[str, Any]:
    """Split an Airflow connection URI into fields.

    ``postgres://user:pass@host:5432/schema?param=x``: the scheme is the type (``postgresql``
    becomes ``postgres``, ``-`` becomes ``_``), every part is percent-decoded, and the query is
    the extra: either one ``__extra__`` parameter holding JSON or the parameters themselves.
    """
    parts = urlsplit(uri)
    if not parts.scheme or "://" not in uri:
        raise ValueError(f"connection URI {uri!r} has no type: expected <type>://[login[:password]@]host...")
    conn_type = "postgres" if parts.scheme == "postgresql" else parts.scheme.replace("-", "_")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"connection URI {uri!r} has an invalid port") from None
    query = parse_qsl(parts.query, keep_blank_values=True)
    extra: dict[str, Any] | None = dict(query) or None
    if extra and "__extra__" in extra:
        try:
            extra = json.loads(extra["__extra__"])
        except ValueError:
            raise ValueError("the __extra__ parameter of the connection URI is not valid JSON") from None
    return {
        "conn_type": conn_type,
        "host": unquote(parts.hostname) if parts.hostname else None,
        "schema": unquote(parts.path[1:]) if parts.path[1:] else None,
        "login": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "port": port,
        "extra": extra,
    }


def _parse_extra(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as e:
        raise CliError(f"--conn-extra is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise CliError("--conn-extra must be a JSON object")
    return value


@click.group()
def connections() -> None:
    """Manage connections (password and extra are encrypted with core.fernet_key)."""


@connections.command("add")
@click.argument("conn_id")
@click.option("--conn-uri", help="Everything as one URI: type://login:password@host:port/schema?extra=x")
@click.option("--conn-type", help="Connection type, e.g. postgres, http, aws.")
@click.option("--conn-host", help="Host name.")
@click.option("--conn-login", help="Login (user name).")
@click.option("--conn-password", help="Password (stored encrypted).")
@click.option("--conn-schema", help="Schema (database name for SQL databases).")
@click.option("--conn-port", type=click.IntRange(0, 65535), help="Port number.")
@click.option("--conn-extra", help="JSON object of extra settings (stored encrypted).")
@click.option("--conn-description", help="What the connection is for.")
@handle_errors
@secret_errors
def add(conn_id: str, conn_uri: str | None, conn_type: str | None, conn_host: str | None,
        conn_login: str | None, conn_password: str | None, conn_schema: str | None, conn_port: int | None,
        conn_extra: str | None, conn_description: str | None) -> None:
    """Add a connection, from --conn-uri or from --conn-type and the other --conn-* options."""
    from tandem.crypto import encrypt

    parts_given = [n for n, v in (("--conn-type", conn_type), ("--conn-host", conn_host),
                                  ("--conn-login", conn_login), ("--conn-password", conn_password),
                                  ("--conn-schema", conn_schema), ("--conn-port", conn_port)) if v is not None]
    if conn_uri is not None:
        if parts_given:
            raise CliError(f"--conn-uri cannot be combined with {', '.join(parts_given)}")
        fields = parse_connection_uri(conn_uri)
        if conn_extra is not None:
            fields["extra"] = {**(fields["extra"] or {}), **(_parse_extra(conn_extra) or {})}
    elif conn_type is None:
        raise CliError("give --conn-uri or --conn-type")
    else:
        fields = {"conn_type": conn_type, "host": conn_host, "schema": conn_schema, "login": conn_login,
                  "password": conn_password, "port": conn_port, "extra": _parse_extra(conn_extra)}
    if not conn_id.strip():
        raise CliError("the connection id cannot be empty")
    password, extra = fields.pop("password"), fields.pop("extra")
    row = Connection(conn_id=conn_id, description=conn_description, **fields,
                     password=encrypt(password) if password is not None else None,
                     extra=encrypt(json.dumps(extra)) if extra else None)
    with session_scope(engine()) as session:
        queries.create_connection(session, row)
    click.echo(f"Connection {conn_id} added")


def _decrypted_extra(conn: Connection) -> Any:
    from tandem.crypto import decrypt

    if conn.extra is None:
        return None
    text = decrypt(conn.extra)
    try:
        return json.loads(text)
    except ValueError:
        return text


@connections.command("get")
@click.argument("conn_id")
@output_option
@handle_errors
@secret_errors
def get(conn_id: str, output: str) -> None:
    """Show a connection; the password is masked, as are secret-looking extra keys."""
    with session_scope(engine()) as session:
        conn = queries.read_connection(session, conn_id)
    if conn is None:
        raise LookupError(f"connection {conn_id!r} not found")
    row: dict[str, Any] = {c: getattr(conn, c) for c in LIST_COLUMNS}
    row["password"] = MASK if conn.password else None
    row["extra"] = SecretsMasker().redact(_decrypted_extra(conn))
    render([row], GET_COLUMNS, output)


@connections.command("list")
@output_option
@handle_errors
def list_connections(output: str) -> None:
    """List connections (without passwords or extras)."""
    with session_scope(engine()) as session:
        rows = [{c: getattr(conn, c) for c in LIST_COLUMNS} for conn in queries.list_connections(session)]
    render(rows, LIST_COLUMNS, output, empty="No connections.")


@connections.command("delete")
@click.argument("conn_id")
@handle_errors
def delete(conn_id: str) -> None:
    """Delete a connection."""
    with session_scope(engine()) as session:
        if not queries.delete_connection(session, conn_id):
            raise LookupError(f"connection {conn_id!r} not found")
    click.echo(f"Connection {conn_id} deleted")


def register(cli: click.Group) -> None:
    cli.add_command(connections)
