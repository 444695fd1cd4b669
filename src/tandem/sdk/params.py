"""DAG params: typed, JSON-schema validated run-time arguments of a DAG.

The authoring side (:class:`Param`, :class:`ParamsDict`) serializes to plain JSON;
:func:`validate_conf` works on that JSON only, so the API and CLI can validate a
trigger's ``conf`` without importing the DAG file.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, MutableMapping
from typing import Any

from tandem.exceptions import ParamValidationError


class _NotSet:
    """Marker for "no default": distinct from ``None``, which is a valid default."""

    _instance: _NotSet | None = None

    def __new__(cls) -> _NotSet:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOTSET"

    def __bool__(self) -> bool:
        return False


NOTSET: Any = _NotSet()


def _validate(name: str, value: Any, schema: dict[str, Any]) -> None:
    import jsonschema

    try:
        jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as err:
        raise ParamValidationError(f"Invalid value for param '{name}': {err.message}") from None
    except jsonschema.SchemaError as err:
        raise ParamValidationError(f"Invalid schema for param '{name}': {err.message}") from None


class Param:
    """A DAG param with an optional default and JSON-schema keywords.

    ``Param(5, type="integer", minimum=0, description="batch size")``. Any JSON
    schema keyword (``enum``, ``minimum``, ``maxLength``, ``format`` ...) may be given.
    Without a default the param is required at trigger time.
    """

    def __init__(self, default: Any = NOTSET, description: str | None = None, **schema: Any) -> None:
        self.value = default
        self.description = description
        self.schema: dict[str, Any] = schema

    @property
    def has_default(self) -> bool:
        return self.value is not NOTSET

    def resolve(self, value: Any = NOTSET, *, name: str = "?") -> Any:
        """Validate ``value`` (or the default when not given) and return it."""
        final = self.value if value is NOTSET else value
        if final is NOTSET:
            raise ParamValidationError(f"Invalid value for param '{name}': required param has no value")
        _validate(name, final, self.schema)
        return final

    def serialize(self, name: str = "?") -> dict[str, Any]:
        default = self.value if self.has_default else None
        try:
            json.dumps(default)
        except (TypeError, ValueError):
            raise ParamValidationError(
                f"param '{name}' has a default that is not JSON-serializable: {default!r}"
            ) from None
        return {
            "default": copy.deepcopy(default),
            # Through JSON: the stored form has string keys only (UI hints like Airflow's
            # ``values_display`` may map None or numbers), so it can be hashed canonically.
            "schema": json.loads(json.dumps(self.schema, default=str)),
            "description": self.description,
            "has_default": self.has_default,
        }

    def __repr__(self) -> str:
        return f"Param({self.value!r}, schema={self.schema!r})"


class ParamsDict(MutableMapping[str, Any]):
    """Param name -> :class:`Param`; item access returns the param's (default) value.

    Assigning a plain value wraps it as ``Param(value)`` (no schema), as Airflow does.
    """

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self._params: dict[str, Param] = {}
        for name, value in (params or {}).items():
            self[name] = value

    def __setitem__(self, name: str, value: Any) -> None:
        self._params[name] = value if isinstance(value, Param) else Param(value)

    def __getitem__(self, name: str) -> Any:
        return self._params[name].value

    def __delitem__(self, name: str) -> None:
        del self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def get_param(self, name: str) -> Param:
        return self._params[name]

    def update_params(self, other: ParamsDict | dict[str, Any]) -> None:
        """Merge params keeping Param objects (plain ``update`` would read their values)."""
        items = other._params.items() if isinstance(other, ParamsDict) else other.items()
        for name, value in items:
            self[name] = value

    def validate_defaults(self) -> None:
        """Check every default against its schema (params without default are skipped)."""
        for name, param in self._params.items():
            if param.has_default:
                param.resolve(name=name)

    def serialize(self) -> dict[str, dict[str, Any]]:
        return {name: self._params[name].serialize(name) for name in self._params}


def validate_conf(
    serialized_params: dict[str, dict[str, Any]], conf: dict[str, Any] | None
) -> dict[str, Any]:
    """Merge a run's ``conf`` over serialized param defaults and validate each value.

    Returns the final params dict for the run. Keys of ``conf`` that are not declared
    params are passed through unchanged (Airflow lets conf add params).
    Raises :class:`ParamValidationError` naming the param.
    """
    conf = dict(conf or {})
    result: dict[str, Any] = {}
    for name, spec in serialized_params.items():
        if name in conf:
            value = conf.pop(name)
        elif spec.get("has_default", True):
            value = copy.deepcopy(spec.get("default"))
        else:
            raise ParamValidationError(f"Invalid value for param '{name}': required param missing from conf")
        _validate(name, value, spec.get("schema") or {})
        result[name] = value
    result.update(conf)
    return result
