"""Reading the audit log (admins only; entries are written by ``tandem.audit``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.schemas.filters import Page, apply_order, paginate
from tandem.models.security import AuditLog

ORDER = {"at": AuditLog.at, "username": AuditLog.username, "action": AuditLog.action, "via": AuditLog.via}


def _about_dag(dag_id: str) -> sa.ColumnElement[bool]:
    """Entries about one DAG: API/UI writes under ``/dags/<id>``, CLI ``dags``/``tasks`` commands naming it."""
    return sa.or_(
        AuditLog.target.endswith(f"/dags/{dag_id}", autoescape=True),
        AuditLog.target.contains(f"/dags/{dag_id}/", autoescape=True),
        sa.and_(AuditLog.via == "cli", sa.or_(AuditLog.action.startswith("dags "), AuditLog.action.startswith("tasks ")),
                AuditLog.target.contains(dag_id, autoescape=True)),
    )


def list_entries(session: Session, p: Page, *, username: str | None = None, action: str | None = None,
                 dag_id: str | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> tuple[list[AuditLog], int]:
    query = sa.select(AuditLog)
    if username:
        query = query.where(AuditLog.username == username)
    if action:
        # The action names the route; the target holds the object (a variable's key, a CLI argument).
        query = query.where(sa.or_(AuditLog.action.contains(action, autoescape=True),
                                   AuditLog.target.contains(action, autoescape=True)))
    if dag_id:
        query = query.where(_about_dag(dag_id))
    if since is not None:
        query = query.where(AuditLog.at >= since)
    if until is not None:
        query = query.where(AuditLog.at < until)
    return paginate(session, apply_order(query, p.order_by, ORDER, [AuditLog.at.desc(), AuditLog.id.desc()]), p)
