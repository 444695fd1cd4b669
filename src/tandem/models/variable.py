from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from tandem.config import get_settings
from tandem.crypto import decrypt, encrypt
from tandem.models.base import Base, LongText


class Variable(Base):
    """A key/value setting; ``val`` is fernet-encrypted when ``is_encrypted``."""

    __tablename__ = "variable"

    key: Mapped[str] = mapped_column(sa.String(250), primary_key=True)
    val: Mapped[str] = mapped_column(LongText)
    description: Mapped[str | None] = mapped_column(sa.Text)
    is_encrypted: Mapped[bool] = mapped_column(sa.Boolean, default=False)


def get_variable_value(session: Session, key: str) -> str | None:
    """The plain value of a variable, decrypted when stored encrypted; None when absent."""
    row = session.get(Variable, key)
    if row is None:
        return None
    return decrypt(row.val) if row.is_encrypted else row.val


def set_variable(session: Session, key: str, value: str, *, description: str | None = None) -> None:
    """Create or replace a variable; its value is encrypted when a fernet key is configured."""
    from tandem.limits import check_variable_size

    check_variable_size(value)
    encrypted = bool(get_settings().core.fernet_key)
    stored = encrypt(value) if encrypted else value
    row = session.get(Variable, key)
    if row is None:
        session.add(Variable(key=key, val=stored, description=description, is_encrypted=encrypted))
    else:
        row.val, row.is_encrypted = stored, encrypted
        if description is not None:
            row.description = description
    session.flush()
