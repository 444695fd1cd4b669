"""SQLite: one node only. Writers are serialised by the database lock instead of row locks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Engine

from tandem.config import Settings
from tandem.db.dialects.base import BaseDialect, SelectT


class SqliteDialect(BaseDialect):
    """Migrations need no lock of their own: BEGIN IMMEDIATE (below) already serialises them."""

    name = "sqlite"
    supports_multiple_schedulers = False

    def engine_kwargs(self, settings: Settings) -> dict[str, Any]:
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}

    def configure_engine(self, engine: Engine, settings: Settings) -> None:
        # pysqlite's own transaction handling starts transactions lazily as DEFERRED, and a
        # deferred reader that later writes fails at once with "database is locked" instead of
        # waiting. Take the write lock up front (BEGIN IMMEDIATE) so busy_timeout applies.
        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    def skip_locked(self, stmt: SelectT) -> SelectT:
        return stmt

    def lock(self, stmt: SelectT) -> SelectT:
        return stmt

    def insert_ignore(self, table: sa.Table, rows: list[dict[str, Any]]) -> sa.Executable:
        return insert(table).values(rows).on_conflict_do_nothing()

    def upsert(self, table: sa.Table, row: dict[str, Any], keys: list[str]) -> sa.Executable:
        stmt = insert(table).values(row)
        update = {k: v for k, v in row.items() if k not in keys}
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=keys)
        return stmt.on_conflict_do_update(index_elements=keys, set_=update)

    def is_retryable(self, exc: BaseException) -> bool:
        return "database is locked" in str(exc) or super().is_retryable(exc)
