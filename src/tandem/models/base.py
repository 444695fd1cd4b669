"""Declarative base and column types shared by every table.

Times are stored in UTC and always come back as aware datetimes, whatever the dialect keeps
(PostgreSQL ``timestamptz``, MySQL ``DATETIME(6)``, SQLite text).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from tandem.db import clock

# Composite keys of three ids must fit MySQL's 3072-byte index limit in utf8mb4.
ID_LEN = 200


def table_of(model: type[Any]) -> sa.Table:
    """The Core table of a model class (typed: ``__table__`` is a FromClause to mypy)."""
    return cast(sa.Table, model.__table__)


def utcnow() -> datetime:
    """Now on the database's clock (``tandem.db.clock``), the only clock timestamps are judged by."""
    return clock.now()


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
JsonColumn = sa.JSON().with_variant(mysql.JSON(), "mysql", "mariadb")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
