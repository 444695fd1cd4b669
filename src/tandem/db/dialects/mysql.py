from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.engine import Engine

from tandem.config import Settings
from tandem.db.dialects.base import BaseDialect

# ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK, ER_LOCK_NOWAIT (MySQL 8) / 1205 on MariaDB NOWAIT
_LOCK_ERRORS = {1205, 1213, 3572}
_LOCK_NOWAIT = {3572, 1205}
# Server gone away / lost connection
_CONNECTION_ERRORS = {2006, 2013, 2003}


def _errno(exc: BaseException) -> int | None:
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


class MysqlDialect(BaseDialect):
    name = "mysql"
    clock_query = "SELECT UTC_TIMESTAMP(6)"

    def engine_kwargs(self, settings: Settings) -> dict[str, Any]:
        kwargs = super().engine_kwargs(settings)
        kwargs["connect_args"] = {"connect_timeout": int(settings.database.connect_timeout), "charset": "utf8mb4"}
        # READ COMMITTED avoids gap locks that make SKIP LOCKED batches deadlock each other.
        kwargs["isolation_level"] = "READ COMMITTED"
        return kwargs

    def configure_engine(self, engine: Engine) -> None:
        @sa.event.listens_for(engine, "connect")
        def _session_settings(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET SESSION time_zone = '+00:00'")
                cur.execute("SET SESSION innodb_lock_wait_timeout = 10")

    def insert_ignore(self, table: sa.Table, rows: list[dict[str, Any]]) -> sa.Executable:
        return insert(table).values(rows).prefix_with("IGNORE")

    def upsert(self, table: sa.Table, row: dict[str, Any], keys: list[str]) -> sa.Executable:
        stmt = insert(table).values(row)
        update = {k: stmt.inserted[k] for k in row if k not in keys} or {keys[0]: stmt.inserted[keys[0]]}
        return stmt.on_duplicate_key_update(**update)

    def socket_fileno(self, dbapi_connection: Any) -> int | None:
        sock = getattr(dbapi_connection, "_sock", None)
        try:
            return sock.fileno() if sock is not None else None
        except OSError:
            return None

    def is_lock_unavailable(self, exc: BaseException) -> bool:
        return _errno(exc) in _LOCK_NOWAIT

    def is_retryable(self, exc: BaseException) -> bool:
        return _errno(exc) in _LOCK_ERRORS | _CONNECTION_ERRORS or super().is_retryable(exc)
