from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from tandem.config import Settings
from tandem.db.dialects.base import BaseDialect, SelectT

# SQLSTATEs: lock_not_available, deadlock_detected, serialization_failure
_LOCK_NOT_AVAILABLE = "55P03"
_RETRYABLE = {"55P03", "40P01", "40001"}


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None)


class PostgresDialect(BaseDialect):
    name = "postgresql"
    # clock_timestamp(), not now(): now() is frozen at the start of the transaction.
    clock_query = "SELECT clock_timestamp()"

    def engine_kwargs(self, settings: Settings) -> dict[str, Any]:
        kwargs = super().engine_kwargs(settings)
        kwargs["connect_args"] = {"connect_timeout": int(settings.database.connect_timeout)}
        return kwargs

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

    def socket_fileno(self, dbapi_connection: Any) -> int | None:
        try:
            return int(dbapi_connection.fileno())
        except Exception:  # already closed
            return None

    def is_lock_unavailable(self, exc: BaseException) -> bool:
        return _sqlstate(exc) == _LOCK_NOT_AVAILABLE

    def is_retryable(self, exc: BaseException) -> bool:
        return _sqlstate(exc) in _RETRYABLE or super().is_retryable(exc)
