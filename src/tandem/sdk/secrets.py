"""Where DAG code reads variables and connections from: the environment, then a backend.

The SDK cannot reach the database (it imports no other layer), so the runner installs a
:class:`SecretsBackend` with :func:`set_secrets_backend`. As in Airflow, environment
variables are consulted first: ``AIRFLOW_VAR_<KEY>`` / ``TANDEM_VAR_<KEY>`` for variables and
``AIRFLOW_CONN_<ID>`` / ``TANDEM_CONN_<ID>`` (a URI or JSON) for connections, so a
deployment's existing Airflow settings keep working.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

_PREFIXES = ("TANDEM", "AIRFLOW")


class SecretsBackend(Protocol):
    """What the runner provides: plain (decrypted) values, None when absent."""

    def get_variable(self, key: str) -> str | None: ...

    def set_variable(self, key: str, value: str, description: str | None = None) -> None: ...

    def get_connection(self, conn_id: str) -> dict[str, Any] | None: ...


_backend: SecretsBackend | None = None


def set_secrets_backend(backend: SecretsBackend | None) -> None:
    global _backend
    _backend = backend


def _from_environment(kind: str, name: str) -> str | None:
    for prefix in _PREFIXES:
        value = os.environ.get(f"{prefix}_{kind}_{name.upper()}")
        if value is not None:
            return value
    return None


def get_variable(key: str) -> str | None:
    value = _from_environment("VAR", key)
    if value is None and _backend is not None:
        value = _backend.get_variable(key)
    return value


def set_variable(key: str, value: str, description: str | None = None) -> None:
    if _backend is None:
        raise RuntimeError(f"cannot set variable {key!r}: no metadata database is available here")
    _backend.set_variable(key, value, description)


def get_connection_fields(conn_id: str) -> str | dict[str, Any] | None:
    """A URI or JSON string from the environment, or the backend's fields; None when absent."""
    value = _from_environment("CONN", conn_id)
    if value is None and _backend is not None:
        return _backend.get_connection(conn_id)
    return value
