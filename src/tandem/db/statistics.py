"""Planner statistics refreshed after a bulk insert, rather than a minute later.

A run of 5,000 tasks, or a task mapped over 10,000 items, inserts its task instances in one
transaction. Until the server's statistics count them (PostgreSQL's autovacuum looks once a
minute), its planner takes the run for a handful of rows and may read every one of them
where an index would read a few, on every scheduler pass of that minute. So a transaction
that inserted many rows into a table refreshes the table's statistics once it has committed,
at most once a minute per table and process, for 2 s at most, and never failing the caller.
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.db.dialects import dialect_of

log = logging.getLogger(__name__)

BULK_ROWS = 1000
MIN_INTERVAL = 60.0
_INFO_KEY = "tandem_bulk_inserted"
_last: dict[tuple[sa.URL, str], float] = {}


def note_bulk_insert(session: Session, table: str, rows: int) -> None:
    """Record that ``session``'s transaction inserted ``rows`` rows into ``table``."""
    if rows >= BULK_ROWS:
        session.info.setdefault(_INFO_KEY, set()).add(table)


@sa.event.listens_for(Session, "after_commit")
def _refresh_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint's commit: the rows are not committed yet
    tables = session.info.pop(_INFO_KEY, None)
    if not tables:
        return
    engine = session.get_bind().engine
    dialect = dialect_of(session)
    for table in sorted(tables):
        now = time.monotonic()
        if now - _last.get((engine.url, table), -MIN_INTERVAL) < MIN_INTERVAL:
            continue
        _last[(engine.url, table)] = now
        try:
            dialect.refresh_statistics(engine, table)
        except sa.exc.SQLAlchemyError as e:  # the server's own statistics catch up later
            log.debug("could not refresh the statistics of %s: %s", table, e)


@sa.event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if session.get_nested_transaction() is None:
        session.info.pop(_INFO_KEY, None)
