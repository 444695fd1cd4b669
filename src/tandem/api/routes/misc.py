"""Small read-only resources: import errors, cluster nodes, version."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request

from tandem import __version__
from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName, role_allows
from tandem.api.deps import db, get_settings, require
from tandem.api.errors import not_found
from tandem.api.queries import cluster as cluster_queries
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import MAX_INT, Page, apply_order, page, paginate
from tandem.models import ImportError_, Node, utcnow

router = APIRouter(dependencies=[Depends(require(RoleName.VIEWER))])
IMPORT_ERROR_ORDER = {"import_error_id": ImportError_.id, "timestamp": ImportError_.timestamp,
                      "filename": ImportError_.filename}


def import_error_response(e: ImportError_) -> r.ImportError:
    return r.ImportError(import_error_id=e.id, timestamp=e.timestamp, filename=e.filename, stack_trace=e.stacktrace)


def node_response(n: Node, timeout: float, *, full: bool) -> r.Node:
    """A node; only admins get its config fingerprint and details (key hashes, DB URL), others agrees/divergent."""
    now = utcnow()
    return r.Node(id=n.id, role=n.role, hostname=n.hostname, pid=n.pid, version=n.version, state=n.state,
                  started_at=n.started_at, last_heartbeat=n.last_heartbeat,
                  heartbeat_age_seconds=round((now - n.last_heartbeat).total_seconds(), 3),
                  alive=cluster_queries.is_alive(n, now, timeout), fingerprint=n.fingerprint if full else "",
                  divergent=n.divergent, details=(n.details or {}) if full else {})


@router.get("/importErrors", response_model=r.ImportErrorCollection, tags=["ImportError"])
def get_import_errors(request: Request, p: Annotated[Page, Depends(page)]) -> r.ImportErrorCollection:
    with db(request) as session:
        query = apply_order(sa.select(ImportError_), p.order_by, IMPORT_ERROR_ORDER, [ImportError_.filename])
        rows, total = paginate(session, query, p)
        return r.ImportErrorCollection(import_errors=[import_error_response(e) for e in rows], total_entries=total)


@router.get("/importErrors/{import_error_id}", response_model=r.ImportError, tags=["ImportError"])
def get_import_error(request: Request, import_error_id: Annotated[int, Path(ge=0, le=MAX_INT)]) -> r.ImportError:
    with db(request) as session:
        row = session.get(ImportError_, import_error_id)
        if row is None:
            raise not_found(f"import error {import_error_id}")
        return import_error_response(row)


@router.get("/cluster/nodes", response_model=r.NodeCollection, tags=["Cluster"])
def get_cluster_nodes(request: Request, p: Annotated[Page, Depends(page)],
                      who: Annotated[Identity, Depends(require(RoleName.VIEWER))], role: str | None = None,
                      state: str | None = None) -> r.NodeCollection:
    timeout = get_settings(request).scheduler.node_timeout
    full = role_allows(who.role, RoleName.ADMIN)
    with db(request) as session:
        rows, total = cluster_queries.list_nodes(session, p, role=role, state=state)
        return r.NodeCollection(nodes=[node_response(n, timeout, full=full) for n in rows], total_entries=total)


@router.get("/version", response_model=r.Version, tags=["Monitoring"])
def get_version() -> r.Version:
    return r.Version(version=__version__)
