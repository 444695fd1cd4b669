"""The runner's :class:`~tandem.sdk.secrets.SecretsBackend`: variables and connections from the DB."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.orm import Session

from tandem.crypto import decrypt
from tandem.models import Connection
from tandem.models.variable import get_variable_value, set_variable
from tandem.secrets_masker import is_sensitive_name, mask_secret


class DatabaseSecrets:
    """Reads and writes through short sessions, so DAG code never holds a transaction open."""

    def __init__(self, session_factory: Callable[[], AbstractContextManager[Session]]) -> None:
        self._session_factory = session_factory

    def get_variable(self, key: str) -> str | None:
        with self._session_factory() as session:
            value = get_variable_value(session, key)
        if value is not None and is_sensitive_name(key):
            mask_secret(value)  # a sensitive variable's value never reaches the try's log
        return value

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        with self._session_factory() as session:
            set_variable(session, key, value, description=description)

    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        with self._session_factory() as session:
            row = session.get(Connection, conn_id)
            if row is None:
                return None
            password = decrypt(row.password) if row.password else None
            extra = decrypt(row.extra) if row.extra else None
        if password:
            mask_secret(password)
        return {
            "conn_type": row.conn_type, "description": row.description, "host": row.host,
            "login": row.login, "schema": row.schema, "port": row.port, "password": password, "extra": extra,
        }
