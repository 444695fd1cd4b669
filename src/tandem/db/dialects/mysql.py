"""MySQL 8 and MariaDB 10.6+ through PyMySQL."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.engine import Connection, Engine

from tandem.config import Settings
from tandem.db.dialects.base import BaseDialect, MigrationLockTimeout

# ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK, ER_LOCK_NOWAIT (MySQL 8)
_LOCK_ERRORS = {1205, 1213, 3572}
# ER_STATEMENT_TIMEOUT (MariaDB max_statement_time), ER_QUERY_TIMEOUT (MySQL max_execution_time)
_STATEMENT_TIMEOUTS = {1969, 3024}
# Server gone away / lost connection / can't connect / disconnected for inactivity (MySQL 8)
_CONNECTION_ERRORS = {2006, 2013, 2003, 4031}
# InnoDB refuses 0; its largest value is "practically forever".
_INNODB_LOCK_WAIT_MAX = 1073741824


def _errno(exc: BaseException) -> int | None:
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _is_mariadb(dbapi_conn: Any) -> bool:
    return "mariadb" in str(dbapi_conn.get_server_info()).lower()


def session_settings(settings: Settings, mariadb: bool) -> list[str]:
    """The SET statements run on every new connection."""
    db = settings.database
    lock_wait = math.ceil(db.lock_timeout) if db.lock_timeout else _INNODB_LOCK_WAIT_MAX
    statements = ["SET SESSION time_zone = '+00:00'", f"SET SESSION innodb_lock_wait_timeout = {lock_wait}"]
    if mariadb:
        statements += [f"SET SESSION max_statement_time = {db.statement_timeout:g}",
                       f"SET SESSION idle_transaction_timeout = {math.ceil(db.idle_in_transaction_timeout)}"]
    else:  # MySQL limits SELECTs only and has no idle-in-transaction limit
        statements.append(f"SET SESSION max_execution_time = {int(db.statement_timeout * 1000)}")
    return statements


def enable_keepalive(sock: socket.socket, settings: Settings) -> None:
    """TCP keepalive and TCP_USER_TIMEOUT on a connection's socket (PyMySQL sets neither)."""
    db = settings.database
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, db.tcp_keepalive_idle)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, db.tcp_keepalive_interval)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, db.tcp_keepalive_count)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(db.tcp_user_timeout * 1000))


class MysqlDialect(BaseDialect):
    name = "mysql"
    clock_query = "SELECT UTC_TIMESTAMP(6)"

    def engine_kwargs(self, settings: Settings) -> dict[str, Any]:
        db = settings.database
        kwargs = super().engine_kwargs(settings)
        # Client-side bounds: a server whose kernel still acknowledges but whose process never
        # answers (frozen VM behind a live proxy) is caught by the read timeout.
        kwargs["connect_args"] = {"connect_timeout": int(db.connect_timeout), "read_timeout": db.read_timeout,
                                  "write_timeout": db.read_timeout, "charset": "utf8mb4"}
        # READ COMMITTED avoids gap locks that make SKIP LOCKED batches deadlock each other.
        kwargs["isolation_level"] = "READ COMMITTED"
        return kwargs

    def configure_engine(self, engine: Engine, settings: Settings) -> None:
        @sa.event.listens_for(engine, "connect")
        def _session_settings(dbapi_conn: Any, _record: Any) -> None:
            if isinstance(getattr(dbapi_conn, "_sock", None), socket.socket):
                enable_keepalive(dbapi_conn._sock, settings)
            with dbapi_conn.cursor() as cur:
                for statement in session_settings(settings, _is_mariadb(dbapi_conn)):
                    cur.execute(statement)

    @contextmanager
    def migration_lock(self, conn: Connection, timeout: float) -> Iterator[None]:
        # GET_LOCK names are server-wide: name the lock after this database. A session lock
        # survives the implicit commits of DDL and is released when the session ends.
        name = conn.exec_driver_sql("SELECT CONCAT('tandem_migrate.', LEFT(MD5(DATABASE()), 16))").scalar_one()
        got = conn.execute(sa.text("SELECT GET_LOCK(:name, :timeout)"),
                           {"name": name, "timeout": math.ceil(timeout)}).scalar()
        if got != 1:
            raise MigrationLockTimeout(f"another node kept the migration lock for over {timeout:g} s")
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": name})

    @contextmanager
    def unbounded_statements(self, conn: Connection) -> Iterator[None]:
        variable = "max_statement_time" if conn.dialect.is_mariadb else "max_execution_time"  # type: ignore[attr-defined]
        before = conn.exec_driver_sql(f"SELECT @@SESSION.{variable}").scalar_one()
        conn.exec_driver_sql(f"SET SESSION {variable} = 0")
        try:
            yield
        finally:
            conn.exec_driver_sql(f"SET SESSION {variable} = {before}")

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

    def is_retryable(self, exc: BaseException) -> bool:
        return _errno(exc) in _LOCK_ERRORS | _STATEMENT_TIMEOUTS | _CONNECTION_ERRORS or super().is_retryable(exc)
