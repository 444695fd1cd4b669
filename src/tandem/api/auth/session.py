"""The UI's sessions: a random id in a signed cookie, the session itself a row in the metadata DB.

A row, not only a signed cookie, so that logout, a password change and an admin disabling a
user end sessions at once on every replica (each replica looks the row up). The cookie is also
signed with ``api.secret_key`` (cluster-wide) so a forged or stale id is refused before the DB
is asked. Sessions end ``security.session_max_age_hours`` after login or
``security.session_idle_minutes`` after their last use.

The login form carries a token bound to the browser that asked for it (a nonce kept in a
cookie of its own), so another site cannot log a victim into the attacker's account (login CSRF).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from tandem.config import Settings
from tandem.models import utcnow
from tandem.models.security import UserSession
from tandem.models.user import User

COOKIE_NAME = "tandem_session"
LOGIN_COOKIE_NAME = "tandem_login"
LOGIN_FORM_MAX_AGE = 3600
# Touch last_seen_at at most this often: a write per request would serialize readers.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionData:
    user: User
    csrf: str


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _serializer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=salt)


def create_session(db: Session, user: User, settings: Settings, *, client: str = "",
                   now: datetime | None = None) -> str:
    """Store a new session of ``user`` and return the cookie value naming it."""
    now = now or utcnow()
    session_id = secrets.token_urlsafe(32)
    db.add(UserSession(id_hash=_hash(session_id), user_id=user.id, csrf=secrets.token_urlsafe(24), created_at=now,
                       last_seen_at=now, client=client[:64],
                       expires_at=now + timedelta(hours=settings.security.session_max_age_hours)))
    db.flush()
    return _serializer(settings.api.secret_key, "tandem.session").dumps(session_id)


def _session_id(settings: Settings, cookie: str) -> str | None:
    max_age = int(settings.security.session_max_age_hours * 3600)
    try:
        value: Any = _serializer(settings.api.secret_key, "tandem.session").loads(cookie, max_age=max_age)
    except BadSignature:  # also SignatureExpired
        return None
    return value if isinstance(value, str) else None


def read_session(db: Session, settings: Settings, cookie: str, *, now: datetime | None = None) -> SessionData | None:
    """The live session a cookie names, with its active user; None when ended, expired or idle too long."""
    now = now or utcnow()
    session_id = _session_id(settings, cookie)
    if session_id is None:
        return None
    row = db.execute(
        sa.select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.id_hash == _hash(session_id))
    ).first()
    if row is None:
        return None
    found, user = row
    idle = timedelta(minutes=settings.security.session_idle_minutes)
    if not user.active or found.expires_at <= now or now - found.last_seen_at > idle:
        return None
    if now - found.last_seen_at > TOUCH_EVERY:
        db.execute(sa.update(UserSession).where(UserSession.id_hash == found.id_hash).values(last_seen_at=now))
    return SessionData(user, found.csrf)


def end_session(db: Session, settings: Settings, cookie: str) -> None:
    session_id = _session_id(settings, cookie)
    if session_id is not None:
        db.execute(sa.delete(UserSession).where(UserSession.id_hash == _hash(session_id)))


def end_user_sessions(db: Session, user_id: int) -> int:
    """End every session of a user (password changed, user disabled or deleted); return how many."""
    result = db.execute(sa.delete(UserSession).where(UserSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def new_login_nonce() -> str:
    return secrets.token_urlsafe(16)


def login_form_token(secret_key: str, nonce: str) -> str:
    """The token the login form posts back: valid only with the browser cookie holding ``nonce``."""
    return _serializer(secret_key, "tandem.login").dumps(nonce)


def check_login_form_token(secret_key: str, token: str, nonce: str | None) -> bool:
    if not nonce:
        return False
    try:
        signed: Any = _serializer(secret_key, "tandem.login").loads(token, max_age=LOGIN_FORM_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(signed, str) and secrets.compare_digest(signed.encode(), nonce.encode())
