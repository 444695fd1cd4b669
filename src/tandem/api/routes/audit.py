"""``/auditLog``: who changed what, when and from where (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.queries import audit as q
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import DateFilter, Page, page
from tandem.models.security import AuditLog

router = APIRouter(tags=["AuditLog"], dependencies=[Depends(require(RoleName.ADMIN))])


def audit_response(e: AuditLog) -> r.AuditEntry:
    return r.AuditEntry(id=e.id, at=e.at, username=e.username, via=e.via, client=e.client, action=e.action,
                        target=e.target, status=e.status, details=e.details)


@router.get("/auditLog", response_model=r.AuditCollection)
def get_audit_log(request: Request, p: Annotated[Page, Depends(page)],
                  username: Annotated[str | None, Query(max_length=256)] = None,
                  action: Annotated[str | None, Query(max_length=100)] = None,
                  dag_id: Annotated[str | None, Query(max_length=250)] = None,
                  since: DateFilter = None, until: DateFilter = None) -> r.AuditCollection:
    with db(request) as session:
        rows, total = q.list_entries(session, p, username=username, action=action, dag_id=dag_id, since=since,
                                     until=until)
        return r.AuditCollection(entries=[audit_response(e) for e in rows], total_entries=total)
