"""Reading rows in batches and comparing them across dialects."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tandem.models.base import table_of

__all__ = ["table_of"]


def canonical(value: Any) -> Any:
    """A value as every dialect gives it back, so equal rows compare equal.

    Floats are rounded to 6 significant digits because MySQL's FLOAT is single precision;
    JSON is compared with sorted keys because MySQL reorders them.
    """
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def row_view(row: Mapping[str, Any], exclude: Iterable[str] = ()) -> dict[str, Any]:
    skip = set(exclude)
    return {k: canonical(v) for k, v in row.items() if k not in skip}


def row_digest(table: str, row: Mapping[str, Any], exclude: Iterable[str] = ()) -> int:
    # repr of canonical values (str, int, float, bool, None) is stable and cheaper than JSON.
    text = repr((table, sorted(row_view(row, exclude).items())))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=32).digest(), "big")


def differing_columns(a: Mapping[str, Any], b: Mapping[str, Any], exclude: Iterable[str] = ()) -> list[str]:
    va, vb = row_view(a, exclude), row_view(b, exclude)
    return [k for k in va if va[k] != vb.get(k)]


def keyset_batches(conn: Connection, table: sa.Table, key: str, size: int) -> Iterator[list[dict[str, Any]]]:
    """Every row of ``table`` in batches ordered by ``key``.

    Keyset pagination instead of one streamed cursor: the walkers query the source again
    between batches, which an open server-side cursor (PyMySQL) would not allow.
    """
    column = table.c[key]
    last: Any = None
    while True:
        stmt = sa.select(table).order_by(column).limit(size)
        if last is not None:
            stmt = stmt.where(column > last)
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        if not rows:
            return
        yield rows
        last = rows[-1][key]


def streamed(conn: Connection, stmt: sa.Select[Any]) -> Iterator[dict[str, Any]]:
    """Rows of a query without buffering the whole result in the client; consume it fully."""
    # On the statement: Connection.execution_options() would change the connection for good.
    result = conn.execute(stmt.execution_options(stream_results=True, yield_per=1000)).mappings()
    for row in result:
        yield dict(row)


def count_rows(conn: Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def insert_rows(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT; the single write path of the merge (tests make it fail)."""
    if rows:
        conn.execute(table.insert(), rows)
