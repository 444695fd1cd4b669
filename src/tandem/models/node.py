from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import Base, JsonColumn, UtcDateTime


class Node(Base):
    """A running Tandem process (scheduler, worker, api-server, ...) and its heartbeat."""

    __tablename__ = "node"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(30))
    hostname: Mapped[str] = mapped_column(sa.String(250))
    pid: Mapped[int] = mapped_column(sa.Integer)
    version: Mapped[str] = mapped_column(sa.String(30))
    state: Mapped[str] = mapped_column(sa.String(20), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_heartbeat: Mapped[datetime] = mapped_column(UtcDateTime)
    fingerprint: Mapped[str] = mapped_column(sa.String(64), default="")
    divergent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)


class Lock(Base):
    """A named row used as a mutex: ``SELECT ... FOR UPDATE NOWAIT`` on it guards a critical section."""

    __tablename__ = "tandem_lock"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
