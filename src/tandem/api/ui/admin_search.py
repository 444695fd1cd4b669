"""Server-side search on the admin pages: a case-insensitive substring of any of a row's text columns."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.auth.users import list_users
from tandem.api.queries.secrets import connection_extra, variable_value
from tandem.models import Connection, Pool, Variable
from tandem.models import queries as model_queries
from tandem.models.user import User


def _matching(columns: list[Any], search: str) -> sa.ColumnElement[bool]:
    needle = search.lower()
    return sa.or_(*(sa.func.lower(sa.func.coalesce(c, "")).contains(needle, autoescape=True) for c in columns))


def pretty_extra(text: str | None) -> str:
    """A connection's (already masked) extra as indented JSON, so that it wraps at keys, not at every character."""
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True)
    except ValueError:
        return text


def search_variables(session: Session, search: str) -> list[tuple[Variable, str]]:
    query = sa.select(Variable).order_by(Variable.key)
    if search:
        query = query.where(_matching([Variable.key, Variable.description], search))
    return [(v, variable_value(v)) for v in session.execute(query).scalars()]


def search_connections(session: Session, search: str) -> list[tuple[Connection, str]]:
    query = sa.select(Connection).order_by(Connection.conn_id)
    if search:
        query = query.where(_matching([Connection.conn_id, Connection.conn_type, Connection.host,
                                       Connection.description], search))
    return [(c, pretty_extra(connection_extra(c))) for c in session.execute(query).scalars()]


def search_pools(session: Session, search: str) -> list[dict[str, Any]]:
    rows = model_queries.list_pools(session)
    if not search:
        return rows
    wanted = set(session.execute(sa.select(Pool.name).where(_matching([Pool.name, Pool.description], search)))
                 .scalars())
    return [r for r in rows if r["name"] in wanted]


def search_users(session: Session, search: str) -> list[User]:
    if not search:
        return list_users(session)
    query = sa.select(User).where(_matching([User.username, User.email, User.role], search)).order_by(User.username)
    return list(session.execute(query).scalars())
