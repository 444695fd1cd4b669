"""Printing listings as a readable table or as JSON (``-o table|json``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

output_option = click.option(
    "-o", "--output", type=click.Choice(["table", "json"]), default="table", show_default=True,
    help="Output format.",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def render(rows: Sequence[dict[str, Any]], columns: Sequence[str], output: str, *, empty: str = "Nothing found.") -> None:
    if output == "json":
        click.echo(json.dumps([{c: _plain(r.get(c)) for c in columns} for r in rows], indent=2))
        return
    if not rows:
        click.echo(empty)
        return
    # Imported here: every command module imports this one, and long-running roles
    # (scheduler, standalone, worker) never print a table.
    from rich.console import Console
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(_cell(r.get(c)) for c in columns))
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        # Piped output: never wrap cells into unreadable slivers.
        console = Console(soft_wrap=False, width=max(console.width, 250))
    console.print(table)
