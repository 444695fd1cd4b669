"""What the cluster looks like from the DB: nodes, their heartbeats, the schedulers' health."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.schemas.filters import Page, apply_order, paginate
from tandem.cluster.nodes import RUNNING
from tandem.models import Node

SCHEDULER_ROLES = ("scheduler", "standalone")
ORDER_COLUMNS = {"role": Node.role, "hostname": Node.hostname, "state": Node.state,
                 "started_at": Node.started_at, "last_heartbeat": Node.last_heartbeat}


def list_nodes(session: Session, p: Page, *, role: str | None = None, state: str | None = None) -> tuple[list[Node], int]:
    query = sa.select(Node)
    if role:
        query = query.where(Node.role == role)
    if state:
        query = query.where(Node.state == state)
    query = apply_order(query, p.order_by, ORDER_COLUMNS, [Node.state.desc(), Node.role, Node.last_heartbeat.desc()])
    return paginate(session, query, p)


def latest_scheduler_heartbeat(session: Session) -> datetime | None:
    return session.execute(
        sa.select(sa.func.max(Node.last_heartbeat)).where(Node.role.in_(SCHEDULER_ROLES), Node.state == RUNNING)
    ).scalar_one_or_none()


def is_alive(node: Node, now: datetime, timeout: float) -> bool:
    return node.state == RUNNING and (now - node.last_heartbeat).total_seconds() <= timeout
