"""API tokens: random secrets handed out once; the DB keeps their SHA-256 only.

A token is ``tdm_`` + 32 random bytes (URL-safe base64): high entropy, so a fast hash is
enough and lookups are one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import utcnow
from tandem.models.user import ApiToken, User

TOKEN_PREFIX = "tdm_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, user: User, *, expires_in_days: float | None = None,
                 description: str = "", now: datetime | None = None) -> str:
    """Store a new token for ``user`` and return its secret (shown once, never again).

    Without ``expires_in_days`` the token gets ``security.token_default_expiry_days`` (0: never
    expires); no token may outlive ``security.token_max_expiry_days``.
    """
    from tandem.config import get_settings

    security = get_settings().security
    now = now or utcnow()
    if expires_in_days is not None and expires_in_days <= 0:
        raise ValueError("expires_in_days must be more than 0")
    if expires_in_days is None:
        expires_in_days = security.token_default_expiry_days or None
    if expires_in_days is not None and expires_in_days > security.token_max_expiry_days:
        raise ValueError(f"a token may live at most {security.token_max_expiry_days:g} days "
                         "(security.token_max_expiry_days)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(
        user_id=user.id, token_hash=hash_token(token), prefix=token[:10], description=description,
        created_at=now, expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    ))
    session.flush()
    return token


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User | None:
    """The active user owning an unexpired ``token``, or None."""
    now = now or utcnow()
    row = session.execute(
        sa.select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if not user.active or (api_token.expires_at is not None and api_token.expires_at <= now):
        return None
    # Touch last_used_at at most once a minute: a write per request would serialize readers.
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=1):
        session.execute(sa.update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now))
    return user


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.execute(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
    ).scalars())


def read_token(session: Session, token: str) -> ApiToken | None:
    return session.execute(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar_one_or_none()


def revoke_token(session: Session, user: User, token_id: int) -> None:
    """Delete one of ``user``'s tokens; it stops working at once on every replica."""
    result = session.execute(sa.delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise LookupError(f"token {token_id} of user {user.username!r} not found")
