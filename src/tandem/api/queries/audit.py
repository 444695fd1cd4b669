"""Reading the audit log (admins only; entries are written by ``tandem.audit``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.schemas.filters import Page, apply_order, paginate
from tandem.models.security import AuditLog

ORDER = {"at": AuditLog.at, "username": AuditLog.username, "action": AuditLog.action, "via": AuditLog.via}


def list_entries(session: Session, p: Page, *, username: str | None = None,
                 action: str | None = None) -> tuple[list[AuditLog], int]:
    query = sa.select(AuditLog)
    if username:
        query = query.where(AuditLog.username == username)
    if action:
        query = query.where(AuditLog.action.contains(action, autoescape=True))
    return paginate(session, apply_order(query, p.order_by, ORDER, [AuditLog.at.desc(), AuditLog.id.desc()]), p)
