"""Builds the ``tandem`` command group from one module per role or noun."""

from __future__ import annotations

import sys

import click

from tandem import __version__
from tandem.cli.common import RET_ERROR, RET_OK


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", prog_name="tandem")
def cli() -> None:
    """Tandem: Airflow-shaped workflows on any number of servers acting as one."""


@cli.command()
def version() -> None:
    """Print Tandem's version."""
    click.echo(__version__)


def _register() -> None:
    from tandem.cli import (
        api_server,
        backfill,
        bundles,
        cluster,
        config_cmd,
        connections,
        dags,
        db,
        pools,
        roles,
        runs,
        tasks,
        transfer,
        users,
        variables,
        worker,
    )

    for module in (roles, db, dags, tasks, runs, variables, connections, pools, transfer, config_cmd, worker, api_server,
                   users, cluster, bundles, backfill):
        module.register(cli)


def main(argv: list[str] | None = None) -> int:
    _register()
    args = argv if argv is not None else sys.argv[1:]
    code = _invoke(args)
    _audit(args, code)
    return code


def _invoke(args: list[str]) -> int:
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of raising it.
        code = cli.main(args=args, prog_name="tandem", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return RET_ERROR
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    return code if isinstance(code, int) else RET_OK


def _audit(argv: list[str], code: int) -> None:
    """Record a write command in the audit log, with its exit code (failed attempts count too)."""
    from tandem.audit import is_cli_write, record_cli
    from tandem.cli.common import engine

    if not is_cli_write(argv):
        return
    try:
        record_cli(engine(), argv, code)
    except Exception as e:  # noqa: BLE001 - the command's own outcome stands whatever happens here
        click.echo(f"warning: not recorded in the audit log: {e}", err=True)


def run() -> None:
    sys.exit(main())
