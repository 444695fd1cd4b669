"""FastAPI dependencies: settings, DB sessions, the caller's identity and role checks.

A route declares the least role it needs with ``Depends(require(RoleName.USER))``; the check
runs before the route's own lookups, so a forbidden caller learns nothing (403 before 404).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from tandem.api.auth.identity import Identity, identify
from tandem.api.auth.roles import RoleName, role_allows
from tandem.api.errors import ApiError
from tandem.config import Settings
from tandem.db.session import session_scope

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FORM_FIELD = "csrf_token"
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="tandem"'}


def get_settings(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


def get_engine(conn: HTTPConnection) -> Engine:
    engine: Engine = conn.app.state.engine
    return engine


@contextmanager
def db(conn: HTTPConnection) -> Iterator[Session]:
    """A session that commits when the block ends normally (the route owns the transaction)."""
    with session_scope(get_engine(conn)) as session:
        yield session


def current_identity(conn: HTTPConnection) -> Identity | None:
    cached: Identity | None = getattr(conn.state, "identity", None)
    if cached is not None:
        return cached
    with db(conn) as session:
        found = identify(conn, session, get_settings(conn))
    conn.state.identity = found
    return found


async def _csrf_token_of(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/")):
        form = await request.form()
        value = form.get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def require(role: RoleName) -> Callable[[Request], Awaitable[Identity]]:
    """A dependency that returns the caller's Identity, or raises 401/403."""

    async def check(request: Request) -> Identity:
        from starlette.concurrency import run_in_threadpool

        identity = await run_in_threadpool(current_identity, request)
        if identity is None:
            raise ApiError(401, "authentication required: log in, or send a bearer token or HTTP Basic credentials",
                           headers=WWW_AUTHENTICATE)
        if identity.via == "session" and request.method not in SAFE_METHODS:
            sent = await _csrf_token_of(request)
            if not identity.csrf or not secrets.compare_digest(sent.encode(), identity.csrf.encode()):
                raise ApiError(403, "CSRF token missing or wrong: send the X-CSRF-Token header of this session")
        if not role_allows(identity.role, role):
            raise ApiError(403, f"this needs the {role.value} role or above; {identity.username} is {identity.role}")
        return identity

    check.__name__ = f"require_{role.value}"
    return check
