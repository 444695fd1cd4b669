"""The UI's session cookie: a signed, timestamped payload, no server-side store.

Signed with ``api.secret_key`` (cluster-wide), so a cookie issued by one replica is accepted by
every other. The payload names the user, carries the CSRF token of this login, and a short
digest of the user's password hash: resetting a password ends every session made before it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "tandem_session"
MAX_AGE = 7 * 24 * 3600
LOGIN_FORM_MAX_AGE = 3600


@dataclass(frozen=True)
class SessionData:
    user_id: int
    password_digest: str
    csrf: str


def password_digest(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _serializer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=salt)


def new_session(user_id: int, password_hash: str) -> SessionData:
    return SessionData(user_id, password_digest(password_hash), secrets.token_urlsafe(24))


def encode_session(secret_key: str, data: SessionData) -> str:
    return _serializer(secret_key, "tandem.session").dumps(
        {"uid": data.user_id, "pwd": data.password_digest, "csrf": data.csrf}
    )


def decode_session(secret_key: str, cookie: str) -> SessionData | None:
    try:
        payload: Any = _serializer(secret_key, "tandem.session").loads(cookie, max_age=MAX_AGE)
    except BadSignature:  # also SignatureExpired
        return None
    try:
        return SessionData(int(payload["uid"]), str(payload["pwd"]), str(payload["csrf"]))
    except (KeyError, TypeError, ValueError):
        return None


def login_form_token(secret_key: str) -> str:
    """A token the login form posts back: stops other sites from logging a victim in (login CSRF)."""
    return _serializer(secret_key, "tandem.login").dumps(secrets.token_urlsafe(8))


def check_login_form_token(secret_key: str, token: str) -> bool:
    try:
        _serializer(secret_key, "tandem.login").loads(token, max_age=LOGIN_FORM_MAX_AGE)
    except BadSignature:
        return False
    return True
