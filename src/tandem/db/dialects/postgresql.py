from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from tandem.config import Settings
from tandem.db.dialects.base import BaseDialect, MigrationLockTimeout, SelectT

# SQLSTATEs: lock_not_available (NOWAIT refused, or lock_timeout), deadlock_detected,
# serialization_failure, query_canceled (statement_timeout), idle_in_transaction_session_timeout
_LOCK_NOT_AVAILABLE = "55P03"
_RETRYABLE = {"55P03", "40P01", "40001", "57014", "25P03"}
# Class 54, "program limit exceeded": a statement too complex or too long for the server.
_PROGRAM_LIMIT = "54"
# pg_advisory_xact_lock key of schema migrations ("tandem" in ASCII). Advisory locks are
# scoped to the current database, so clusters sharing a server do not wait for each other.
_MIGRATION_LOCK_KEY = 0x74616E64656D


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None)


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class PostgresDialect(BaseDialect):
    name = "postgresql"
    # clock_timestamp(), not now(): now() is frozen at the start of the transaction.
    clock_query = "SELECT clock_timestamp()"

    def engine_kwargs(self, settings: Settings) -> dict[str, Any]:
        db = settings.database
        kwargs = super().engine_kwargs(settings)
        # libpq parameters: the server enforces the timeouts (they hold even when this process
        # is frozen), and keepalives plus TCP_USER_TIMEOUT end a connection into a black hole.
        kwargs["connect_args"] = {
            "connect_timeout": max(int(db.connect_timeout), 2),  # libpq ignores values below 2
            "options": (f"-c lock_timeout={_ms(db.lock_timeout)} -c statement_timeout={_ms(db.statement_timeout)} "
                        f"-c idle_in_transaction_session_timeout={_ms(db.idle_in_transaction_timeout)}"),
            "keepalives": 1,
            "keepalives_idle": db.tcp_keepalive_idle,
            "keepalives_interval": db.tcp_keepalive_interval,
            "keepalives_count": db.tcp_keepalive_count,
            "tcp_user_timeout": _ms(db.tcp_user_timeout),
        }
        return kwargs

    @contextmanager
    def migration_lock(self, conn: Connection, timeout: float) -> Iterator[None]:
        # A transaction-level lock: released by the migration's commit or rollback, even when
        # this process dies. lock_timeout bounds the wait; the session's own value comes back after.
        configured = conn.exec_driver_sql("SELECT current_setting('lock_timeout')").scalar_one()
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {_ms(timeout)}")
        try:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        except sa.exc.OperationalError as e:
            if _sqlstate(e) == _LOCK_NOT_AVAILABLE:
                raise MigrationLockTimeout(f"another node kept the migration lock for over {timeout:g} s") from None
            raise
        conn.execute(sa.text("SELECT set_config('lock_timeout', :value, true)"), {"value": configured})
        yield

    @contextmanager
    def unbounded_statements(self, conn: Connection) -> Iterator[None]:
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")  # ends with the transaction
        yield

    def refresh_statistics(self, engine: Engine, table: str) -> None:
        # Bounded: a table that another ANALYZE or a VACUUM holds is left to them, and a huge
        # one is sampled for at most 2 s (the caller waits: an API trigger, a scheduler pass).
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = 100")
            conn.exec_driver_sql("SET LOCAL statement_timeout = 2000")
            conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(table)}")

    def skip_locked(self, stmt: SelectT) -> SelectT:
        # FOR NO KEY UPDATE: runners inserting task_try/xcom rows take FOR KEY SHARE on the
        # dag_run row through the foreign key; a plain FOR UPDATE would make them wait for the
        # scheduler's whole pass.
        return stmt.with_for_update(skip_locked=True, key_share=True)

    def lock(self, stmt: SelectT) -> SelectT:
        return stmt.with_for_update(key_share=True)  # see skip_locked

    def insert_ignore(self, table: sa.Table, rows: list[dict[str, Any]]) -> sa.Executable:
        return insert(table).values(rows).on_conflict_do_nothing()

    def upsert(self, table: sa.Table, row: dict[str, Any], keys: list[str]) -> sa.Executable:
        stmt = insert(table).values(row)
        update = {k: v for k, v in row.items() if k not in keys}
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=keys)
        return stmt.on_conflict_do_update(index_elements=keys, set_=update)

    def wakeup_statement(self, channel: str, sender: str) -> sa.Executable | None:
        # NOTIFY is delivered at commit: a woken listener sees what the transaction wrote.
        return sa.text("SELECT pg_notify(:channel, :sender)").bindparams(channel=channel, sender=sender)

    def listen(self, engine: Engine, channel: str) -> Any | None:
        import psycopg

        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        # Short bounds: the scheduler loop opens it, and polls meanwhile if the database is away.
        conn = psycopg.connect(url, autocommit=True, connect_timeout=2, keepalives=1, keepalives_idle=10,
                               keepalives_interval=5, keepalives_count=3)
        conn.execute(f"LISTEN {channel}")
        return conn

    def socket_fileno(self, dbapi_connection: Any) -> int | None:
        try:
            return int(dbapi_connection.fileno())
        except Exception:  # already closed
            return None

    def is_retryable(self, exc: BaseException) -> bool:
        state = _sqlstate(exc)
        if state is not None and state.startswith(_PROGRAM_LIMIT):
            return False  # the statement itself is too big: the same one fails again
        return state in _RETRYABLE or super().is_retryable(exc)
