"""Decoding the values Airflow stores as bytes: XComs (Airflow 2) and DAG run ``conf`` (pickled).

Pickles are read with an unpickler that resolves no class at all, so only plain containers,
strings and numbers come out; a pickle of anything else is reported, never executed.
"""

from __future__ import annotations

import io
import json
import pickle
from typing import Any

# Airflow's serializer wraps values JSON has no type for; these three are only lists to Tandem.
_SEQUENCES = {"builtins.tuple", "builtins.set", "builtins.frozenset"}


class Unconvertible(ValueError):
    """A stored value that is neither JSON nor a pickle of plain data."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise Unconvertible(f"a pickled {module}.{name} object")


def unwrap(value: Any) -> Any:
    """Airflow's ``{"__classname__": "builtins.tuple", "__data__": [...]}`` as a plain list, recursively."""
    if isinstance(value, dict):
        if value.get("__classname__") in _SEQUENCES and "__data__" in value:
            return [unwrap(v) for v in value["__data__"]]
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def decode_bytes(raw: bytes) -> Any:
    """JSON (Airflow's default XCom encoding) or a pickle of plain data."""
    try:
        return unwrap(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError):
        pass
    try:
        return unwrap(_PlainUnpickler(io.BytesIO(raw)).load())
    except Unconvertible:
        raise
    # What a truncated or corrupt pickle raises, per the pickle module's own code paths.
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError) as e:
        raise Unconvertible(f"neither JSON nor a pickle ({e.__class__.__name__})") from None


def decode(value: Any) -> Any:
    """A stored value as JSON data: bytes are decoded, JSON-typed columns come decoded already."""
    if isinstance(value, bytes | bytearray | memoryview):
        return decode_bytes(bytes(value))
    return unwrap(value)
