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

from tandem.api.auth.session import COOKIE_NAME, decode_session, password_digest
from tandem.api.auth.tokens import user_for_token
from tandem.api.auth.users import authenticate
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


def _basic(session: Session, encoded: str) -> Identity | None:
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    from tandem.api.auth.users import read_user

    user = read_user(session, username)
    if user is None or not user.active:
        return None
    key = hashlib.sha256(f"{username}\0{password}\0{user.password_hash}".encode("utf-8", "surrogatepass")).hexdigest()
    now = time.monotonic()
    with _basic_lock:
        if _basic_ok.get(key, 0.0) > now:
            return _from_user(user, "basic")
    if authenticate(session, username, password) is None:
        return None
    with _basic_lock:
        if len(_basic_ok) > 10_000:
            _basic_ok.clear()
        _basic_ok[key] = now + _BASIC_TTL
    return _from_user(user, "basic")


def identify(conn: HTTPConnection, session: Session, secret_key: str) -> Identity | None:
    """The identity behind the request's credentials, or None when it has no valid ones."""
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and value.strip():
        user = user_for_token(session, value.strip())
        return _from_user(user, "token") if user is not None else None
    if scheme == "basic" and value.strip():
        return _basic(session, value.strip())
    if header:
        return None
    cookie = conn.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    data = decode_session(secret_key, cookie)
    if data is None:
        return None
    user = session.get(User, data.user_id)
    if user is None or not user.active or password_digest(user.password_hash) != data.password_digest:
        return None
    return _from_user(user, "session", data.csrf)
