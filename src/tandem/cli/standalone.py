"""``tandem standalone``: every role of one machine in one process group."""

from __future__ import annotations

import threading
import time

import click

from tandem.cli.common import CliError, engine, settings, setup_logging


def run_standalone(verbose: bool, *, force: bool = False) -> None:
    from tandem.cluster.fingerprint import ConfigMismatch
    from tandem.scheduler.service import SchedulerRefused, install_stop_handlers, run_scheduler

    started = time.monotonic()
    cfg = settings()
    setup_logging(verbose)
    eng = engine()
    click.echo(f"Tandem standalone\n  home:   {cfg.home}\n  config: {cfg.home / 'tandem.toml'}\n"
               f"  DB:     {eng.url.render_as_string(hide_password=True)}\n  logs:   {cfg.log_folder}\n"
               f"  DAGs:   {cfg.dags_folder}" + ("  (+ example DAGs)" if cfg.core.load_examples else ""))
    stop = threading.Event()
    install_stop_handlers(stop)
    click.echo(f"Ready in {time.monotonic() - started:.1f} s. Press Ctrl-C to stop.")
    try:
        run_scheduler(cfg, eng, stop, role="standalone", embedded_processor=True, force=force)
    except (SchedulerRefused, ConfigMismatch) as e:
        raise CliError(str(e)) from None
    click.echo("Stopped.")
