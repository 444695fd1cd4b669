"""Users of the API and UI, their roles, and API tokens.

Roles are rows so that every replica and the CLI agree on them; their ``rank`` orders them
(viewer < user < op < admin) and a route asks for a minimum rank. Passwords and tokens are
stored only as hashes (bcrypt for passwords, SHA-256 for random high-entropy tokens).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import Base, UtcDateTime

# name -> (rank, description): the rows migration 0002 wrote, and a database created from the
# models at once (``tandem.db.migrate``) gets.
ROLES: dict[str, tuple[int, str]] = {
    "viewer": (0, "Read everything except connections' secrets"),
    "user": (1, "Viewer, plus trigger, clear, pause and mark runs and tasks"),
    "op": (2, "User, plus variables, connections and pools"),
    "admin": (3, "Op, plus users and tokens"),
}


class Role(Base):
    __tablename__ = "tandem_role"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    rank: Mapped[int] = mapped_column(sa.Integer)
    description: Mapped[str] = mapped_column(sa.String(250), default="")


class User(Base):
    """A person or script that logs in; ``password_hash`` is a bcrypt hash."""

    __tablename__ = "tandem_user"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(256), unique=True)
    email: Mapped[str] = mapped_column(sa.String(256), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("tandem_role.name"))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token of a user; only the SHA-256 of the secret is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("tandem_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters of the token, so a user can tell tokens apart in a listing.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    description: Mapped[str] = mapped_column(sa.String(250), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
