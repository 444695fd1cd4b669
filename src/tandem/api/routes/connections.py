"""``/connections``: op and above; a password goes in, never comes out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import ApiError, not_found
from tandem.api.queries import secrets as q
from tandem.api.schemas import actions
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import Page, page
from tandem.crypto import FernetKeyMissing
from tandem.models import Connection
from tandem.models import queries as model_queries

router = APIRouter(tags=["Connection"], dependencies=[Depends(require(RoleName.OP))])
ConnId = Annotated[str, Path(max_length=250)]
PLAIN_FIELDS = ("conn_type", "description", "host", "login", "port")


def connection_response(row: Connection) -> r.Connection:
    return r.Connection(connection_id=row.conn_id, conn_type=row.conn_type, description=row.description,
                        host=row.host, login=row.login, schema=row.schema, port=row.port,
                        extra=q.connection_extra(row), has_password=bool(row.password))


def _no_key() -> ApiError:
    return ApiError(400, "core.fernet_key is not set on this server, so connection secrets cannot be stored")


@router.get("/connections", response_model=r.ConnectionCollection)
def get_connections(request: Request, p: Annotated[Page, Depends(page)]) -> r.ConnectionCollection:
    with db(request) as session:
        rows, total = q.list_connections(session, p)
        return r.ConnectionCollection(connections=[connection_response(c) for c in rows], total_entries=total)


@router.post("/connections", response_model=r.Connection)
def post_connection(request: Request, body: actions.ConnectionBody) -> r.Connection:
    values = {f: getattr(body, f) for f in PLAIN_FIELDS} | {"schema": body.schema_}
    try:
        with db(request) as session:
            if model_queries.read_connection(session, body.connection_id) is not None:
                raise ApiError(409, f"connection {body.connection_id!r} already exists")
            return connection_response(q.create_connection(session, body.connection_id, values, body.password,
                                                           body.extra))
    except FernetKeyMissing:
        raise _no_key() from None


@router.get("/connections/{connection_id}", response_model=r.Connection)
def get_connection(request: Request, connection_id: ConnId) -> r.Connection:
    with db(request) as session:
        row = model_queries.read_connection(session, connection_id)
        if row is None:
            raise not_found(f"connection {connection_id!r}")
        return connection_response(row)


@router.patch("/connections/{connection_id}", response_model=r.Connection)
def patch_connection(request: Request, connection_id: ConnId, body: actions.ConnectionPatch) -> r.Connection:
    sent = body.model_fields_set
    values = {f: getattr(body, f) for f in PLAIN_FIELDS if f in sent}
    if "schema_" in sent:
        values["schema"] = body.schema_
    if values.get("conn_type", "") is None:
        raise ApiError(400, "conn_type cannot be null")
    try:
        with db(request) as session:
            row = q.update_connection(session, connection_id, values, password=body.password, extra=body.extra,
                                      set_password="password" in sent, set_extra="extra" in sent)
            return connection_response(row)
    except FernetKeyMissing:
        raise _no_key() from None


@router.delete("/connections/{connection_id}", status_code=204)
def delete_connection(request: Request, connection_id: ConnId) -> None:
    with db(request) as session:
        if not model_queries.delete_connection(session, connection_id):
            raise not_found(f"connection {connection_id!r}")
