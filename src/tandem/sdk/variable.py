"""``Variable``: key/value settings kept in the metadata database (Airflow's API)."""

from __future__ import annotations

import json
from typing import Any

from tandem.exceptions import NotFound
from tandem.sdk import secrets

_MISSING: Any = object()


class Variable:
    """Read and write variables from DAG code: ``Variable.get("key", default=None)``."""

    @staticmethod
    def get(key: str, default: Any = _MISSING, deserialize_json: bool = False, *,
            default_var: Any = _MISSING) -> Any:
        """The value of ``key`` (parsed as JSON with ``deserialize_json``).

        ``default_var`` is Airflow 2's name for ``default``; without a default a missing
        variable raises :class:`~tandem.exceptions.NotFound` (a KeyError).
        """
        if default is _MISSING:
            default = default_var
        raw = secrets.get_variable(key)
        if raw is None:
            if default is _MISSING:
                raise NotFound(f"Variable {key} does not exist")
            return default
        return json.loads(raw) if deserialize_json else raw

    @staticmethod
    def set(key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        """Create or replace ``key``; ``serialize_json`` stores ``value`` as JSON."""
        text = json.dumps(value, indent=2) if serialize_json else str(value)
        secrets.set_variable(key, text, description)

    @staticmethod
    def setdefault(key: str, default: Any, description: str | None = None,
                   deserialize_json: bool = False) -> Any:
        """The value of ``key``, storing ``default`` first when it does not exist."""
        value = Variable.get(key, default=None, deserialize_json=deserialize_json)
        if value is None:
            Variable.set(key, default, description=description, serialize_json=deserialize_json)
            return default
        return value
