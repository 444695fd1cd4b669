"""Column-level conversions shared by the Airflow readers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tandem.db.merge.airflow.values import decode


def utc(value: datetime | None) -> datetime | None:
    """Airflow writes UTC; SQLite and MySQL give it back without a zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stored(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    """A JSON-or-bytes column as raw text or bytes, decoded by ``load``.

    JSON columns are read as text: SQLite keeps a JSON number as a number, which
    SQLAlchemy's JSON type cannot decode.
    """
    if isinstance(column.type, sa.LargeBinary):
        return column
    return sa.cast(column, sa.Text).label(column.name)


def load(raw: Any) -> Any:
    """Decode what ``stored`` read: JSON text, or bytes (JSON or a plain pickle)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return decode(json.loads(raw))
    return decode(raw)


def selectable(table: sa.Table, *json_columns: str) -> sa.Select[Any]:
    """Every column of ``table``, the named JSON-or-bytes ones through ``stored``."""
    return sa.select(*[stored(c) if c.name in json_columns else c for c in table.c])
