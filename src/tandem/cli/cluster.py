"""``tandem cluster status | check-config``: the nodes of the cluster and whether they agree."""

from __future__ import annotations

import click
import sqlalchemy as sa

from tandem.cli.common import RET_ERROR, engine, handle_errors, settings
from tandem.cli.output import output_option, render


@click.group()
def cluster() -> None:
    """Inspect the nodes (schedulers, workers, API servers) sharing this metadata database."""


@cluster.command()
@output_option
@click.option("--all", "show_all", is_flag=True, help="Include stopped and dead nodes.")
@handle_errors
def status(output: str, show_all: bool) -> None:
    """Every node with its role, host, version, heartbeat age, config agreement, load and metrics URL."""
    from tandem.cluster.fingerprint import cluster_config, fingerprint
    from tandem.db.session import session_scope
    from tandem.models import Node, utcnow

    cfg = settings()
    with session_scope(engine()) as session:
        nodes = session.execute(sa.select(Node).order_by(Node.role, Node.started_at)).scalars().all()
    now = utcnow()
    timeout = cfg.scheduler.node_timeout
    live = [n for n in nodes if n.state == "running" and (now - n.last_heartbeat).total_seconds() <= timeout]
    reference = cluster_config(live)
    reference_fp = fingerprint(reference) if reference else None
    rows = []
    for n in nodes:
        age = (now - n.last_heartbeat).total_seconds()
        state = n.state if n.state != "running" or age <= timeout else "unresponsive"
        if not show_all and state in ("stopped", "dead"):
            continue
        details = n.details or {}
        load = details.get("load") or {}
        rows.append({
            "id": n.id[:8] if output == "table" else n.id, "role": n.role, "hostname": n.hostname, "pid": n.pid,
            "version": n.version, "state": state, "heartbeat_age_s": round(age, 1),
            "config": "divergent" if n.divergent or (reference_fp and n.fingerprint and n.fingerprint != reference_fp)
            else ("agrees" if n.fingerprint else "unknown"),
            "queues": ",".join(details.get("queues", [])) or None,
            "running": load.get("running", details.get("running")), "open_slots": load.get("open_slots"),
            "passes_per_s": load.get("passes_per_s"), "started_at": n.started_at,
            "metrics": details.get("metrics_url") or None,
        })
    render(rows, ["id", "role", "hostname", "pid", "version", "state", "heartbeat_age_s", "config", "queues",
                  "running", "open_slots", "passes_per_s", "started_at", "metrics"], output,
           empty="No live nodes (use --all to include stopped ones).")


@cluster.command("check-config")
@handle_errors
def check_config() -> None:
    """Compare this machine's config with the live cluster's, without starting anything."""
    from tandem.cluster.nodes import config_differences
    from tandem.db.session import session_scope

    cfg = settings()
    with session_scope(engine()) as session:
        differences, peers = config_differences(session, cfg)
    if not peers:
        click.echo("No live node has published its config; nothing to compare.")
        return
    if not differences:
        click.echo(f"This machine's config agrees with the cluster's ({peers} live node(s)).")
        return
    width = max(len(d.key) for d in differences)
    lines = [f"  {d.key:<{width}}  this machine: {d.mine}  cluster: {d.cluster}" for d in differences]
    click.echo("This machine's config differs from the running cluster's:\n" + "\n".join(lines), err=True)
    raise click.exceptions.Exit(RET_ERROR)


def register(cli: click.Group) -> None:
    cli.add_command(cluster)
