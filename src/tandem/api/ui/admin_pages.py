"""Variables, connections and pools (op and above), users and the audit log (admin), and every
user's own API tokens: lists with search, import/export and edit forms.

The forms post JSON to the REST API from the browser; these pages only read. An edit form never
holds a secret: a password field starts blank (blank keeps the stored one), a sensitive
variable's value too, and a connection's extra shows ``***`` under sensitive keys, which the
API reads as "keep".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RANK, RoleName
from tandem.api.auth.tokens import list_tokens
from tandem.api.auth.users import read_user
from tandem.api.deps import db
from tandem.api.errors import not_found
from tandem.api.queries.audit import list_entries
from tandem.api.queries.secrets import connection_extra, variable_value
from tandem.api.schemas.filters import Page
from tandem.api.ui import admin_search as s
from tandem.api.ui.access import page_for
from tandem.api.ui.render import render
from tandem.models import Connection, Variable
from tandem.models import queries as model_queries
from tandem.secrets_masker import is_sensitive_name

router = APIRouter(include_in_schema=False)
Op = Annotated[Identity, Depends(page_for(RoleName.OP))]
Admin = Annotated[Identity, Depends(page_for(RoleName.ADMIN))]
Search = Annotated[str, Query(max_length=250)]
AUDIT_PAGE = 50


@router.get("/variables")
def variables(request: Request, who: Op, search: Search = "") -> Response:
    with db(request) as session:
        rows = s.search_variables(session, search.strip())
    return render(request, "variables.html", who, variables=rows, search=search)


@router.get("/variables/edit")
def edit_variable(request: Request, who: Op, key: Annotated[str, Query(max_length=250)]) -> Response:
    with db(request) as session:
        row = session.get(Variable, key)
        if row is None:
            raise not_found(f"variable {key!r}")
        secret = is_sensitive_name(row.key)
        value = "" if secret else variable_value(row)
    return render(request, "variable_edit.html", who, variable=row, value=value, secret=secret)


@router.get("/connections")
def connections(request: Request, who: Op, search: Search = "") -> Response:
    with db(request) as session:
        rows = s.search_connections(session, search.strip())
    return render(request, "connections.html", who, connections=rows, search=search)


@router.get("/connections/edit")
def edit_connection(request: Request, who: Op, conn_id: Annotated[str, Query(max_length=250)]) -> Response:
    with db(request) as session:
        row = session.get(Connection, conn_id)
        if row is None:
            raise not_found(f"connection {conn_id!r}")
        extra = s.pretty_extra(connection_extra(row))
    return render(request, "connection_edit.html", who, connection=row, extra=extra)


@router.get("/pools")
def pools(request: Request, who: Op, search: Search = "") -> Response:
    with db(request) as session:
        rows = s.search_pools(session, search.strip())
    return render(request, "pools.html", who, pools=rows, search=search)


@router.get("/pools/edit")
def edit_pool(request: Request, who: Op, name: Annotated[str, Query(max_length=256)]) -> Response:
    with db(request) as session:
        row = next((p for p in model_queries.list_pools(session) if p["name"] == name), None)
    if row is None:
        raise not_found(f"pool {name!r}")
    return render(request, "pool_edit.html", who, pool=row)


@router.get("/users")
def users(request: Request, who: Admin, search: Search = "") -> Response:
    with db(request) as session:
        rows = s.search_users(session, search.strip())
    return render(request, "users.html", who, users=rows, search=search)


@router.get("/users/edit")
def edit_user(request: Request, who: Admin, username: Annotated[str, Query(max_length=256)]) -> Response:
    with db(request) as session:
        row = read_user(session, username)
        if row is None:
            raise not_found(f"user {username!r}")
    return render(request, "user_edit.html", who, user=row, roles=[str(getattr(r, "value", r)) for r in RANK])


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be a date as YYYY-MM-DD, not {text!r}") from None


@router.get("/audit-log")
def audit_log(request: Request, who: Admin, username: Annotated[str, Query(max_length=256)] = "",
              action: Annotated[str, Query(max_length=100)] = "", dag_id: Annotated[str, Query(max_length=250)] = "",
              since: Annotated[str, Query(max_length=10)] = "", until: Annotated[str, Query(max_length=10)] = "",
              page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    filters = {"username": username, "action": action, "dag_id": dag_id, "since": since, "until": until}
    try:
        first, last = _day(since, "From"), _day(until, "To")
        error = ""
    except ValueError as e:
        first = last = None
        error = str(e)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) if first else None
    # "To" is a whole day: entries up to its midnight.
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1) if last else None
    with db(request) as session:
        rows, total = ([], 0) if error else list_entries(
            session, Page(AUDIT_PAGE, (page - 1) * AUDIT_PAGE, None), username=username or None,
            action=action or None, dag_id=dag_id or None, since=start, until=end)
    return render(request, "audit_log.html", who, entries=rows, total=total, filters=filters, error=error,
                  page=page, pages=max(1, -(-total // AUDIT_PAGE)))


@router.get("/my-tokens")
def my_tokens(request: Request, who: Annotated[Identity, Depends(page_for(RoleName.VIEWER))]) -> Response:
    with db(request) as session:
        user = read_user(session, who.username)
        rows = list_tokens(session, user) if user is not None else []
    return render(request, "my_tokens.html", who, tokens=rows)
