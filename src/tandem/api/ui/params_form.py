"""Form fields generated from a DAG's params (each a JSON schema plus a default).

The browser's script reads the fields back into a ``conf`` object by kind, and the server
validates that conf against the same schemas when the run is triggered, so the form is a
convenience, never the check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Field:
    name: str
    kind: str  # text | number | integer | checkbox | select | json
    value: str
    description: str = ""
    required: bool = False
    options: list[str] = field(default_factory=list)
    minimum: Any = None
    maximum: Any = None


def _type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def param_fields(params: dict[str, dict[str, Any]]) -> list[Field]:
    fields = []
    for name, spec in params.items():
        schema = spec.get("schema") or {}
        default = spec.get("default")
        kind = _type(schema)
        description = spec.get("description") or schema.get("description") or ""
        required = not spec.get("has_default", True)
        if "enum" in schema and all(isinstance(v, str | int | float) for v in schema["enum"]):
            fields.append(Field(name, "select", "" if default is None else str(default), description, required,
                                options=[str(v) for v in schema["enum"]]))
        elif kind == "boolean":
            fields.append(Field(name, "checkbox", "true" if default else "", description))
        elif kind in ("integer", "number"):
            fields.append(Field(name, kind, "" if default is None else str(default), description, required,
                                minimum=schema.get("minimum"), maximum=schema.get("maximum")))
        elif kind == "string" or (kind is None and isinstance(default, str)):
            fields.append(Field(name, "text", default or "", description, required))
        else:
            fields.append(Field(name, "json", json.dumps(default, indent=2), description, required))
    return fields
