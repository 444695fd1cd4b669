"""Pagination and ordering shared by every list route."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Query
from pydantic import AfterValidator

from tandem.api.errors import ApiError

MAX_INT = 2**31 - 1  # every integer column is 32-bit somewhere
MAX_PAGE = 1000
# The largest byte offset into a log worth asking for (1 TiB); beyond it a seek overflows.
MAX_LOG_OFFSET = 2**40


def _in_utc_range(value: datetime) -> datetime:
    """An aware datetime that stays within year 1..9999 once in UTC (the DB compares in UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date out of range once converted to UTC (years 1-9999)") from None


# A date filter: 400 (not 500) for a date such as 9999-12-31T23:59:59-14:00 that overflows in UTC.
DateFilter = Annotated[datetime | None, AfterValidator(lambda v: _in_utc_range(v) if v is not None else None)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int
    order_by: str | None


def page(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="The numbers of items to return.")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT, description="The number of items to skip.")] = 0,
    order_by: Annotated[str | None, Query(max_length=100, description=(
        "The name of the field to order the results by; prefix with '-' to reverse."))] = None,
) -> Page:
    return Page(limit, offset, order_by)


def apply_order(query: sa.Select[Any], order_by: str | None, columns: Mapping[str, Any],
                default: list[Any]) -> sa.Select[Any]:
    """ORDER BY an allowed field (``-`` for descending), then the default order as tie-breaker."""
    if not order_by:
        return query.order_by(*default)
    name, descending = (order_by[1:], True) if order_by.startswith("-") else (order_by, False)
    column = columns.get(name)
    if column is None:
        raise ApiError(400, f"Ordering with '{name}' is disallowed or the attribute does not exist on the model; "
                            f"use one of: {', '.join(sorted(columns))}")
    return query.order_by(column.desc() if descending else column.asc(), *default)


def paginate(session: Any, query: sa.Select[Any], p: Page) -> tuple[list[Any], int]:
    """One page of ``query``'s rows and the total number of rows."""
    total = int(session.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one())
    rows = list(session.execute(query.limit(p.limit).offset(p.offset)).scalars())
    return rows, total
