"""Long-running roles: ``standalone``, ``scheduler``, ``dag-processor``."""

from __future__ import annotations

import threading

import click

from tandem.cli.common import CliError, engine, settings, setup_logging
from tandem.config import Settings

force_option = click.option(
    "--force", is_flag=True,
    help="Join even if this node's cluster-wide config differs from the cluster's (marked divergent).",
)


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@force_option
def scheduler(verbose: bool, force: bool) -> None:
    """Run a scheduler (with an embedded DAG processor unless scheduler.standalone_dag_processor).

    Start as many as you like against one PostgreSQL or MySQL/MariaDB database: all of them
    work at once, and any of them may die without losing work.
    """
    from tandem.cluster.fingerprint import ConfigMismatch
    from tandem.scheduler.service import SchedulerRefused, install_stop_handlers, run_scheduler

    cfg = settings()
    setup_logging(verbose)
    if not cfg.scheduler.standalone_dag_processor:
        _check_bundles(cfg)
    eng = engine()
    stop = threading.Event()
    install_stop_handlers(stop)
    try:
        run_scheduler(cfg, eng, stop, embedded_processor=not cfg.scheduler.standalone_dag_processor, force=force)
    except (SchedulerRefused, ConfigMismatch) as e:
        raise CliError(str(e)) from None


@click.command("dag-processor")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@force_option
def dag_processor(verbose: bool, force: bool) -> None:
    """Run a standalone DAG processor: parse DAG files into the database until stopped.

    It is a node of the cluster (shown by `tandem cluster status` and the dashboard) serving
    its metrics on metrics.port.
    """
    from tandem.cluster.fingerprint import ConfigMismatch
    from tandem.cluster.heartbeat import NodeHeartbeatThread
    from tandem.cluster.nodes import join_cluster
    from tandem.dag_processing.processor import DagFileProcessor
    from tandem.db.session import session_scope
    from tandem.observability import exporter

    cfg = settings()
    setup_logging(verbose)
    _check_bundles(cfg)
    eng = engine()
    metrics = exporter.start(cfg, "dag-processor")
    try:
        with session_scope(eng) as session:
            node_id = join_cluster(session, "dag-processor", cfg, force=force,
                                   details={"metrics_url": metrics.url if metrics else ""})
    except ConfigMismatch as e:
        raise CliError(str(e)) from None
    if metrics is not None:
        metrics.set_node(node_id)
    heartbeat = NodeHeartbeatThread(eng, node_id, cfg.scheduler.heartbeat_interval)
    heartbeat.start()
    try:
        DagFileProcessor(cfg, eng).run_forever()
    finally:
        heartbeat.stop()


def _check_bundles(cfg: Settings) -> None:
    """A bad ``dag_bundle_config_list`` stops the node at start, naming the entry, not in a loop."""
    from tandem.dag_processing.bundles.base import BundleError
    from tandem.dag_processing.bundles.loader import load_bundles

    try:
        load_bundles(cfg)
    except BundleError as e:
        raise CliError(str(e)) from None


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@force_option
def standalone(verbose: bool, force: bool) -> None:
    """Run everything on this machine: scheduler, DAG processor, local executor, API server."""
    from tandem.cli.standalone import run_standalone

    run_standalone(verbose, force=force)


def register(cli: click.Group) -> None:
    for command in (scheduler, dag_processor, standalone):
        cli.add_command(command)
