"""The contract every dialect module fulfils."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from tandem.config import Settings

# Any SELECT, whatever its columns: locking clauses keep the statement's type.
SelectT = TypeVar("SelectT", bound=Select)


class MigrationLockTimeout(Exception):
    """Another node kept migrating the schema for longer than ``database.migration_lock_timeout``."""


class BaseDialect:
    """Row locking, upserts and error classification for one kind of database."""

    name = "base"
    #: Whether several schedulers may share this database.
    supports_multiple_schedulers = True
    #: A query returning the server's current UTC time (``tandem.db.clock``); None when the
    #: database lives on this machine and shares its clock.
    clock_query: str | None = None

    def engine_kwargs(self, settings: Settings) -> dict[str, Any]:
        return {
            "pool_size": settings.database.pool_size,
            "max_overflow": settings.database.max_overflow,
            "pool_pre_ping": False,  # idle connections only: tandem.db.engine pings them
            "pool_recycle": settings.database.pool_recycle,
        }

    def configure_engine(self, engine: Engine, settings: Settings) -> None:
        """Install connection event hooks (pragmas, session settings)."""

    @contextmanager
    def migration_lock(self, conn: Connection, timeout: float) -> Iterator[None]:
        """Hold the database-wide lock that serialises schema migrations between nodes.

        Raises ``MigrationLockTimeout`` when another node holds it for longer than ``timeout``.
        """
        yield

    @contextmanager
    def unbounded_statements(self, conn: Connection) -> Iterator[None]:
        """Let statements on ``conn`` run for any length of time (schema migrations) meanwhile."""
        yield

    def refresh_statistics(self, engine: Engine, table: str) -> None:
        """Bring the planner's statistics of ``table`` up to date (``tandem.db.statistics``).

        Nothing by default: MySQL/MariaDB recount a table that changed by a tenth on their own,
        and SQLite's planner prefers an index without statistics.
        """

    def skip_locked(self, stmt: SelectT) -> SelectT:
        """Lock the selected rows, skipping rows other transactions hold."""
        return stmt.with_for_update(skip_locked=True)

    def lock(self, stmt: SelectT) -> SelectT:
        """Lock the selected rows, waiting (up to the lock timeout) for their holders."""
        return stmt.with_for_update()

    def insert_ignore(self, table: sa.Table, rows: list[dict[str, Any]]) -> sa.Executable:
        """INSERT rows, silently skipping those whose primary key exists."""
        raise NotImplementedError

    def upsert(self, table: sa.Table, row: dict[str, Any], keys: list[str]) -> sa.Executable:
        """INSERT a row or UPDATE its non-key columns when the key exists."""
        raise NotImplementedError

    def wakeup_statement(self, channel: str, sender: str) -> sa.Executable | None:
        """A statement whose commit wakes the listeners of ``channel``; None without such a feature."""
        return None

    def listen(self, engine: Engine, channel: str) -> Any | None:
        """A dedicated driver connection listening on ``channel``, or None without such a feature."""
        return None

    def socket_fileno(self, dbapi_connection: Any) -> int | None:
        """The OS descriptor of a driver connection's socket, if it has one."""
        return None

    def is_retryable(self, exc: BaseException) -> bool:
        """True for deadlocks, lock and statement timeouts, serialization failures and lost connections."""
        if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
            return True
        return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
