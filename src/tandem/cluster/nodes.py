"""Registering, heartbeating and retiring nodes."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem import __version__
from tandem.cluster.fingerprint import (
    ConfigMismatch,
    Difference,
    cluster_config,
    cluster_settings,
    compare,
    fingerprint,
)
from tandem.config import Settings
from tandem.db import clock
from tandem.db.dialects import dialect_of
from tandem.models import Node, utcnow

RUNNING, STOPPED, DEAD = "running", "stopped", "dead"


def join_cluster(session: Session, role: str, settings: Settings, *, force: bool = False,
                 hostname: str | None = None, details: dict[str, Any] | None = None) -> str:
    """Register this process as a node after checking its config against the live cluster's.

    Raises ConfigMismatch (naming every differing key) unless ``force``, which registers the
    node as divergent instead.
    """
    differences, peers = config_differences(session, settings)
    if differences and not force:
        raise ConfigMismatch(differences, peers)
    mine = cluster_settings(settings)
    return register_node(session, role, hostname=hostname or settings.core.hostname or None,
                         fingerprint=fingerprint(mine), divergent=bool(differences),
                         details={**(details or {}), "config": mine})


def config_differences(session: Session, settings: Settings) -> tuple[list[Difference], int]:
    """How this node's cluster-wide settings differ from the live cluster's, and how many peers live."""
    peers = live_nodes(session, timeout=settings.scheduler.node_timeout)
    theirs = cluster_config(peers)
    return (compare(cluster_settings(settings), theirs) if theirs is not None else []), len(peers)


def register_node(session: Session, role: str, *, hostname: str | None = None, fingerprint: str = "",
                  divergent: bool = False, details: dict[str, Any] | None = None) -> str:
    """Add a node row without a config check (tools that run briefly, tests)."""
    now = utcnow()
    node_id = str(uuid.uuid4())
    session.add(Node(
        id=node_id, role=role, hostname=hostname or socket.gethostname(), pid=os.getpid(), version=__version__,
        state=RUNNING, started_at=now, last_heartbeat=now, fingerprint=fingerprint, divergent=divergent,
        details=details or {},
    ))
    session.flush()
    return node_id


def heartbeat_node(session: Session, node_id: str, details: dict[str, Any] | None = None, *,
                   load: dict[str, Any] | None = None) -> bool:
    """Touch the node's heartbeat, calibrating this process's clock against the DB's first.

    Returns False when a peer had declared this node dead (fenced): its queued work has been
    adopted by then, and whatever it still writes about that work loses its compare-and-set.
    The node is revived in the same call, so that it is adopted again should it now die for
    good, and so that a SQLite database still knows its one scheduler is alive. The caller
    must drop what it believed (caches, plans) and log it.
    """
    query = dialect_of(session).clock_query
    if query is not None:
        clock.calibrate(lambda: session.execute(sa.text(query)).scalar_one())
    values: dict[str, Any] = {"last_heartbeat": utcnow()}
    if load is not None and details is None:
        # The node's load rides in its details, beside what it registered (only it writes them).
        details = session.execute(sa.select(Node.details).where(Node.id == node_id)).scalar_one_or_none() or {}
    if details is not None:
        values["details"] = {**details, "load": load} if load is not None else details
    result = session.execute(
        sa.update(Node).where(Node.id == node_id, Node.state == RUNNING).values(**values)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return True
    session.execute(sa.update(Node).where(Node.id == node_id, Node.state == DEAD).values(state=RUNNING, **values))
    return False


def stop_node(session: Session, node_id: str) -> None:
    session.execute(sa.update(Node).where(Node.id == node_id).values(state=STOPPED, last_heartbeat=utcnow()))


def live_nodes(session: Session, role: str | None = None, *, timeout: float, now: datetime | None = None) -> list[Node]:
    now = now or utcnow()
    query = sa.select(Node).where(Node.state == RUNNING, Node.last_heartbeat >= now - timedelta(seconds=timeout))
    if role:
        query = query.where(Node.role == role)
    return list(session.execute(query).scalars())


def live_node_ids() -> sa.Select[str]:
    """Ids of nodes that count as alive (registered and not declared dead or stopped)."""
    return sa.select(Node.id).where(Node.state == RUNNING)


def declare_dead(session: Session, *, timeout: float, now: datetime) -> list[str]:
    """Mark nodes silent for longer than ``timeout`` as dead; return their ids (CAS per node)."""
    silent = session.execute(
        sa.select(Node.id).where(Node.state == RUNNING, Node.last_heartbeat < now - timedelta(seconds=timeout))
    ).scalars().all()
    dead = []
    for node_id in silent:
        result = session.execute(
            sa.update(Node).where(Node.id == node_id, Node.state == RUNNING).values(state=DEAD)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            dead.append(node_id)
    return dead
