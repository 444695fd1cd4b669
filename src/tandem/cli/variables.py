"""``tandem variables``: key/value settings read by DAGs; values are encrypted at rest."""

from __future__ import annotations

import json

import click

from tandem.cli.common import CliError, engine, handle_errors
from tandem.cli.connections import secret_errors
from tandem.cli.output import output_option, render
from tandem.db.session import session_scope
from tandem.models import queries
from tandem.models.variable import get_variable_value, set_variable


def _not_found(key: str) -> LookupError:
    return LookupError(f"variable {key!r} not found")


@click.group()
def variables() -> None:
    """Manage variables (values are encrypted when core.fernet_key is set)."""


@variables.command("get")
@click.argument("key")
@click.option("-d", "--default", "default", help="Print this when the variable does not exist.")
@click.option("-j", "--json", "as_json", is_flag=True, help="Parse the value as JSON and pretty-print it.")
@handle_errors
@secret_errors
def get_var(key: str, default: str | None, as_json: bool) -> None:
    """Print a variable's value."""
    with session_scope(engine()) as session:
        value = get_variable_value(session, key)
    if value is None:
        if default is None:
            raise _not_found(key)
        value = default
    if as_json:
        try:
            value = json.dumps(json.loads(value), indent=2)
        except ValueError:
            raise CliError(f"variable {key!r} does not hold JSON") from None
    click.echo(value)


@variables.command("set")
@click.argument("key")
@click.argument("value")
@click.option("--description", help="What the variable is for.")
@click.option("-j", "--json", "as_json", is_flag=True, help="Check that VALUE is JSON and store it compacted.")
@handle_errors
@secret_errors
def set_var(key: str, value: str, description: str | None, as_json: bool) -> None:
    """Create or replace a variable."""
    if as_json:
        try:
            value = json.dumps(json.loads(value))
        except ValueError as e:
            raise CliError(f"VALUE is not valid JSON: {e}") from None
    with session_scope(engine()) as session:
        set_variable(session, key, value, description=description)
    click.echo(f"Variable {key} set")


@variables.command("list")
@output_option
@handle_errors
def list_vars(output: str) -> None:
    """List variable keys (values are not shown: they may be secrets)."""
    with session_scope(engine()) as session:
        rows = [{"key": v.key, "description": v.description, "is_encrypted": v.is_encrypted}
                for v in queries.list_variables(session)]
    render(rows, ["key", "description", "is_encrypted"], output, empty="No variables.")


@variables.command("delete")
@click.argument("key")
@handle_errors
def delete_var(key: str) -> None:
    """Delete a variable."""
    with session_scope(engine()) as session:
        if not queries.delete_variable(session, key):
            raise _not_found(key)
    click.echo(f"Variable {key} deleted")


@variables.command("import")
@click.argument("file", metavar="FILE")
@click.option("-a", "--action-on-existing-key", type=click.Choice(["overwrite", "fail", "skip"]),
              default="overwrite", show_default=True, help="What to do when a key already exists.")
@handle_errors
@secret_errors
def import_vars(file: str, action_on_existing_key: str) -> None:
    """Import variables from a JSON object of key -> value or {value, description} ('-' reads stdin).

    The whole file is checked first: any bad entry and nothing is imported.
    """
    from tandem.api.queries.transfer import import_variables
    from tandem.cli.transfer import import_file

    import_file(file, "variables", action_on_existing_key, import_variables)


@variables.command("export")
@click.argument("file", metavar="FILE")
@handle_errors
@secret_errors
def export_vars(file: str) -> None:
    """Export all variables, decrypted, to a JSON file readable by its owner only ('-' writes stdout)."""
    from tandem.api.queries.transfer import export_variables
    from tandem.cli.transfer import write_file

    with session_scope(engine()) as session:
        data = export_variables(session, reveal=True)
    write_file(file, data, "variable(s)")


def register(cli: click.Group) -> None:
    cli.add_command(variables)
