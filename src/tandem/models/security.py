"""Security state every api-server replica shares: UI sessions, failed-login counters, the audit log.

Kept in the metadata DB, not in a replica's memory or only in a signed cookie, so that a logout,
a password change or a disabled user ends a session on every replica at once, and a password
guesser is slowed down whichever replica it reaches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import Base, JsonColumn, UtcDateTime


class UserSession(Base):
    """A UI login; the cookie carries the session's random id, the table only its SHA-256."""

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("tandem_user.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    client: Mapped[str] = mapped_column(sa.String(64), default="")


class LoginFailure(Base):
    """Consecutive failed logins of one username or one client address, and when the next try is allowed."""

    __tablename__ = "login_failure"

    # "user:<name>" or "client:<address>"
    subject: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditLog(Base):
    """One write made through the API, the UI or the CLI: who, what, when and from where."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    username: Mapped[str] = mapped_column(sa.String(256), index=True)
    via: Mapped[str] = mapped_column(sa.String(16))  # api, ui, cli
    client: Mapped[str] = mapped_column(sa.String(300), default="")
    action: Mapped[str] = mapped_column(sa.String(100), index=True)  # e.g. "POST /api/v1/variables"
    target: Mapped[str] = mapped_column(sa.String(1000), default="")
    status: Mapped[int | None] = mapped_column(sa.Integer)
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
