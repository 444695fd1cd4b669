"""Variables, connections and pools (op and above), users and the audit log (admin), and every
user's own API tokens: lists with edit forms.

The forms post JSON to the REST API from the browser; these pages only read.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.auth.tokens import list_tokens
from tandem.api.auth.users import list_users, read_user
from tandem.api.deps import db
from tandem.api.queries.audit import list_entries
from tandem.api.queries.secrets import connection_extra, variable_value
from tandem.api.schemas.filters import Page
from tandem.api.ui.access import page_for
from tandem.api.ui.render import render
from tandem.models import Connection, Variable
from tandem.models import queries as model_queries

router = APIRouter(include_in_schema=False)
Op = Annotated[Identity, Depends(page_for(RoleName.OP))]


@router.get("/variables")
def variables(request: Request, who: Op) -> Response:
    with db(request) as session:
        rows = [(v, variable_value(v)) for v in session.execute(sa.select(Variable).order_by(Variable.key)).scalars()]
    return render(request, "variables.html", who, variables=rows)


@router.get("/connections")
def connections(request: Request, who: Op) -> Response:
    with db(request) as session:
        rows = [(c, connection_extra(c)) for c in
                session.execute(sa.select(Connection).order_by(Connection.conn_id)).scalars()]
    return render(request, "connections.html", who, connections=rows)


@router.get("/pools")
def pools(request: Request, who: Op) -> Response:
    with db(request) as session:
        rows = model_queries.list_pools(session)
    return render(request, "pools.html", who, pools=rows)


@router.get("/users")
def users(request: Request, who: Annotated[Identity, Depends(page_for(RoleName.ADMIN))]) -> Response:
    with db(request) as session:
        rows = list_users(session)
    return render(request, "users.html", who, users=rows)


@router.get("/audit-log")
def audit_log(request: Request, who: Annotated[Identity, Depends(page_for(RoleName.ADMIN))],
              username: Annotated[str, Query(max_length=256)] = "",
              page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    size = 100
    with db(request) as session:
        rows, total = list_entries(session, Page(size, (page - 1) * size, None), username=username or None)
    return render(request, "audit_log.html", who, entries=rows, total=total, username=username, page=page,
                  pages=max(1, -(-total // size)))


@router.get("/my-tokens")
def my_tokens(request: Request, who: Annotated[Identity, Depends(page_for(RoleName.VIEWER))]) -> Response:
    with db(request) as session:
        user = read_user(session, who.username)
        rows = list_tokens(session, user) if user is not None else []
    return render(request, "my_tokens.html", who, tokens=rows)
