"""``tandem bundles``: DAG bundles, their stored versions, and garbage collection."""

from __future__ import annotations

import click

from tandem.cli.common import engine, handle_errors, settings
from tandem.cli.output import output_option, render
from tandem.db.session import session_scope

BUNDLE_COLUMNS = ["name", "kind", "latest_version", "refreshed_at", "stored_versions", "dags"]


@click.group()
def bundles() -> None:
    """List DAG bundles and their versions; collect versions no run needs."""


@bundles.command("list")
@output_option
@handle_errors
def list_bundles(output: str) -> None:
    """List bundles with their latest version, stored versions and DAG count."""
    from tandem.dag_processing.bundles.listing import list_bundles as read_bundles
    from tandem.dag_processing.bundles.listing import short_version

    with session_scope(engine()) as session:
        rows = read_bundles(session)
    if output == "table":
        rows = [{**r, "latest_version": short_version(r["latest_version"])} for r in rows]
    render(rows, BUNDLE_COLUMNS, output, empty="No bundles yet (has a DAG processor run?).")


@bundles.command("versions")
@click.argument("name")
@output_option
@handle_errors
def list_versions(name: str, output: str) -> None:
    """List the stored versions of bundle NAME, newest first, with the runs that recorded each."""
    from tandem.dag_processing.bundles.listing import list_versions as read_versions

    with session_scope(engine()) as session:
        rows = read_versions(session, name)
    render(rows, ["version", "created_at", "files", "runs"], output, empty=f"No stored versions of bundle {name!r}.")


@bundles.command("gc")
@handle_errors
def collect() -> None:
    """Delete versions no unfinished run needs (older than version_retention) and prune this node's cache."""
    from tandem.dag_processing.bundles.gc import collect_garbage, prune_local_cache
    from tandem.models import utcnow

    cfg, eng = settings(), engine()
    with session_scope(eng) as session:
        stats = collect_garbage(session, utcnow(), cfg.dag_processor.version_retention)
    removed = prune_local_cache(cfg.bundle_cache_folder, eng)
    click.echo(f"Deleted {stats.versions} version(s) and {stats.contents} file content(s); "
               f"pruned {removed} cached version folder(s)")


def register(cli: click.Group) -> None:
    cli.add_command(bundles)
