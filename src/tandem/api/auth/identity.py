"""Who sent a request: a bearer token, HTTP Basic credentials, or the UI's session cookie.

Explicit credentials win over the cookie, so a script is never mistaken for a browser session
(and never needs a CSRF token).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from tandem.api.auth.session import COOKIE_NAME, read_session
from tandem.api.auth.throttle import LoginThrottled
from tandem.api.auth.tokens import user_for_token
from tandem.api.auth.users import log_in
from tandem.config import Settings
from tandem.models.user import User

# bcrypt costs ~0.2 s by design; a script sending Basic credentials on every call would pay it
# each time. A verified (username, password, stored hash) triple is remembered briefly, keyed by
# a digest so the password itself is not kept.
_BASIC_TTL = 60.0
_basic_ok: dict[str, float] = {}
_basic_lock = threading.Lock()


@dataclass(frozen=True)
class Identity:
    user_id: int
    username: str
    role: str
    via: Literal["session", "token", "basic"]
    csrf: str | None = None


def _from_user(user: User, via: Literal["session", "token", "basic"], csrf: str | None = None) -> Identity:
    return Identity(user.id, user.username, user.role, via, csrf)


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client is not None else ""


def _basic(conn: HTTPConnection, session: Session, settings: Settings, encoded: str) -> Identity | None:
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    from tandem.api.auth.users import read_user

    user = read_user(session, username)
    key = hashlib.sha256(f"{username}\0{password}\0{user.password_hash if user else ''}".encode(
        "utf-8", "surrogatepass")).hexdigest()
    now = time.monotonic()
    with _basic_lock:
        if user is not None and user.active and _basic_ok.get(key, 0.0) > now:
            return _from_user(user, "basic")
    try:
        user = log_in(session, username, password, client=client_address(conn), settings=settings)
    except LoginThrottled:
        return None
    if user is None:
        return None
    with _basic_lock:
        if len(_basic_ok) > 10_000:
            _basic_ok.clear()
        _basic_ok[key] = now + _BASIC_TTL
    return _from_user(user, "basic")


def identify(conn: HTTPConnection, session: Session, settings: Settings) -> Identity | None:
    """The identity behind the request's credentials, or None when it has no valid ones."""
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and value.strip():
        user = user_for_token(session, value.strip())
        return _from_user(user, "token") if user is not None else None
    if scheme == "basic" and value.strip():
        return _basic(conn, session, settings, value.strip())
    if header:
        return None
    cookie = conn.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    found = read_session(session, settings, cookie)
    return _from_user(found.user, "session", found.csrf) if found is not None else None
