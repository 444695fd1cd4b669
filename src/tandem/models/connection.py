from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import Base


class Connection(Base):
    """Credentials for an external system; password and extra are fernet-encrypted at rest."""

    __tablename__ = "connection"

    conn_id: Mapped[str] = mapped_column(sa.String(250), primary_key=True)
    conn_type: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.Text)
    host: Mapped[str | None] = mapped_column(sa.String(500))
    schema: Mapped[str | None] = mapped_column(sa.String(500))
    login: Mapped[str | None] = mapped_column(sa.Text)
    password: Mapped[str | None] = mapped_column(sa.Text)
    port: Mapped[int | None] = mapped_column(sa.Integer)
    extra: Mapped[str | None] = mapped_column(sa.Text)
