from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import Base

DEFAULT_POOL = "default_pool"
DEFAULT_POOL_SLOTS = 128


class Pool(Base):
    """A named budget of slots shared by every scheduler; tasks take ``pool_slots`` each."""

    __tablename__ = "pool"

    name: Mapped[str] = mapped_column(sa.String(256), primary_key=True)
    slots: Mapped[int] = mapped_column(sa.Integer)
    description: Mapped[str | None] = mapped_column(sa.Text)
