"""SQL dialect differences, one module per database. Callers never test the dialect name."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tandem.db.dialects.base import BaseDialect, MigrationLockTimeout


def dialect_for(url: str) -> BaseDialect:
    name = make_url(url).get_backend_name()
    if name == "sqlite":
        from tandem.db.dialects.sqlite import SqliteDialect

        return SqliteDialect()
    if name == "postgresql":
        from tandem.db.dialects.postgresql import PostgresDialect

        return PostgresDialect()
    if name in ("mysql", "mariadb"):
        from tandem.db.dialects.mysql import MysqlDialect

        return MysqlDialect()
    raise ValueError(f"unsupported database {name!r}: use sqlite, postgresql, mysql or mariadb")


def dialect_of(session: Session) -> BaseDialect:
    """The dialect of the database a session talks to."""
    return dialect_for(session.get_bind().engine.url.render_as_string(hide_password=False))


__all__ = ["BaseDialect", "MigrationLockTimeout", "dialect_for", "dialect_of"]
