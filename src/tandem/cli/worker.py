"""Celery roles: ``tandem worker`` runs tries from Celery queues, ``tandem flower`` monitors them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tandem.cli.common import CliError, engine, settings

if TYPE_CHECKING:
    from celery import Celery

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "-q",
    "--queues",
    default=None,
    metavar="Q1,Q2",
    help="Queues to consume, comma-separated (default: celery.default_queue).",
)
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Tries run at once (default: celery.worker_concurrency).",
)
@click.option(
    "--hostname",
    default=None,
    metavar="NAME",
    help="Name of this worker's node and of its tries' host (default: core.hostname or the machine's).",
)
@click.option(
    "-l",
    "--loglevel",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default=None,
    help="Level of the worker's own log (default: logging.level).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.option(
    "--force",
    is_flag=True,
    help="Join even if this node's config differs from the cluster's (marked divergent).",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(
    queues: str | None,
    concurrency: int | None,
    hostname: str | None,
    loglevel: str | None,
    verbose: bool,
    force: bool,
    celery_args: tuple[str, ...],
) -> None:
    """Run a Celery worker that runs Tandem's tries (further arguments go to `celery worker`)."""
    cfg = settings()
    engine()  # fail early and clearly when the metadata DB is unreachable or not migrated
    from tandem.executors.celery.worker import configure

    if cfg.core.executor not in ("celery", "celery_kubernetes"):
        click.echo(
            f"Warning: core.executor is {cfg.core.executor!r}, so no scheduler sends work to Celery "
            "workers; set it to 'celery' on every node.",
            err=True,
        )
    selected = [q.strip() for q in (queues or cfg.celery.default_queue).split(",") if q.strip()]
    if not selected:
        raise CliError("--queues names no queue")
    level = "DEBUG" if verbose else (loglevel or cfg.logging.level).upper()
    argv = [
        "worker",
        "--queues",
        ",".join(selected),
        "--concurrency",
        str(concurrency or cfg.celery.worker_concurrency),
        "--loglevel",
        level,
        "--pool",
        "prefork",
        # Tandem coordinates through its DB: worker-to-worker chatter only slows start-up.
        "--without-mingle",
        "--without-gossip",
    ]
    if hostname:
        argv += ["--hostname", hostname]
    configure(hostname=hostname, force=force)
    code = _app().start([*argv, *celery_args])
    if code:
        raise SystemExit(code)


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("flower_args", nargs=-1, type=click.UNPROCESSED)
def flower(flower_args: tuple[str, ...]) -> None:
    """Run Flower against Tandem's Celery app (arguments go to Flower, e.g. --port=5555 --basic-auth=u:p).

    The same as `celery -A tandem.executors.celery.app flower ...`.
    """
    settings()
    code = _app().start(["flower", *flower_args])
    if code:
        raise SystemExit(code)


def _app() -> Celery:
    from tandem.config import ConfigError

    try:
        from tandem.executors.celery.app import get_app

        return get_app()
    except ImportError as e:
        raise CliError(f"Celery is not installed: pip install 'tandem[celery]' ({e})") from None
    except ConfigError as e:
        raise CliError(str(e)) from None


def register(cli: click.Group) -> None:
    for command in (worker, flower):
        cli.add_command(command)
