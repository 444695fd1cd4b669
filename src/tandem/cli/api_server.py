"""``tandem api-server``: the REST API and web UI, one replica of many."""

from __future__ import annotations

import os

import click
from sqlalchemy.engine import Engine

from tandem.cli.common import CliError, engine, settings, setup_logging
from tandem.config import Settings


@click.command("api-server")
@click.option("--host", help="Address to bind (default api.host).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to bind (default api.port).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default api.workers).")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.option("--force", is_flag=True,
              help="Serve even if this node's cluster-wide config differs from the cluster's (marked divergent).")
def api_server(host: str | None, port: int | None, workers: int | None, verbose: bool, force: bool) -> None:
    """Serve the REST API (/api/v1), the web UI, /health and /metrics until stopped.

    Start as many as you like against the same config and database, behind a load balancer:
    sessions are signed with api.secret_key, so any replica answers any request.
    """
    from tandem.api.serve import serve
    from tandem.config import ConfigError, reset_settings

    # Options travel as environment overrides so that every worker process sees them too.
    for key, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"TANDEM__API__{key}"] = str(value)
    reset_settings()
    cfg = settings()
    setup_logging(verbose)
    eng = engine()  # refuses to start on a schema that is not current
    if not force:
        _refuse_divergent_config(cfg, eng)
    click.echo(f"Tandem API server on http://{cfg.api.host}:{cfg.api.port} ({cfg.api.workers} worker(s))", err=True)
    try:
        serve(cfg, log_level="debug" if verbose else None)
    except ConfigError as e:
        raise CliError(str(e)) from None


def _refuse_divergent_config(cfg: Settings, eng: Engine) -> None:
    from tandem.cluster.fingerprint import ConfigMismatch
    from tandem.cluster.nodes import config_differences
    from tandem.db.session import session_scope

    with session_scope(eng) as session:
        differences, peers = config_differences(session, cfg)
    if differences:
        raise CliError(str(ConfigMismatch(differences, peers)))


def register(cli: click.Group) -> None:
    cli.add_command(api_server)
