from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import Base, LongText


class Variable(Base):
    """A key/value setting; ``val`` is fernet-encrypted when ``is_encrypted``."""

    __tablename__ = "variable"

    key: Mapped[str] = mapped_column(sa.String(250), primary_key=True)
    val: Mapped[str] = mapped_column(LongText)
    description: Mapped[str | None] = mapped_column(sa.Text)
    is_encrypted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
