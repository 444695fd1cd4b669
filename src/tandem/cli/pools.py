"""``tandem pools``: named budgets of task slots shared by every scheduler."""

from __future__ import annotations

import click

from tandem.cli.common import engine, handle_errors
from tandem.cli.output import output_option, render
from tandem.db.session import session_scope
from tandem.models import queries

POOL_COLUMNS = ["name", "slots", "occupied", "open", "description"]


@click.group()
def pools() -> None:
    """Manage pools, which cap how many task instances run at once."""


@pools.command("set")
@click.argument("name")
@click.argument("slots", type=int)
@click.argument("description")
@handle_errors
def set_pool(name: str, slots: int, description: str) -> None:
    """Create a pool or change its slots and description."""
    with session_scope(engine()) as session:
        queries.set_pool(session, name, slots, description)
    click.echo(f"Pool {name} set to {slots} slot(s)")


@pools.command("list")
@output_option
@handle_errors
def list_pools(output: str) -> None:
    """List pools with their occupied (queued + running) and open slots."""
    with session_scope(engine()) as session:
        rows = queries.list_pools(session)
    render(rows, POOL_COLUMNS, output, empty="No pools.")


@pools.command("get")
@click.argument("name")
@output_option
@handle_errors
def get_pool(name: str, output: str) -> None:
    """Show one pool."""
    with session_scope(engine()) as session:
        rows = [r for r in queries.list_pools(session) if r["name"] == name]
    if not rows:
        raise LookupError(f"pool {name!r} not found")
    render(rows, POOL_COLUMNS, output)


@pools.command("delete")
@click.argument("name")
@handle_errors
def delete_pool(name: str) -> None:
    """Delete a pool (not default_pool)."""
    with session_scope(engine()) as session:
        if not queries.delete_pool(session, name):
            raise LookupError(f"pool {name!r} not found")
    click.echo(f"Pool {name} deleted")


def register(cli: click.Group) -> None:
    cli.add_command(pools)
