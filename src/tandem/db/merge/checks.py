"""Preconditions: both databases reachable, distinct, and at the schema head revision."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from tandem.db.engine import create_engine, normalize_url
from tandem.db.merge.errors import MergeError
from tandem.db.migrate import current_revision, head_revision


def open_source(url: str, target: Engine) -> Engine:
    """An engine on the other database; refuses this database itself and missing SQLite files."""
    try:
        normalized = normalize_url(url)
        parsed = make_url(normalized)
    except (sa.exc.ArgumentError, ValueError) as e:
        raise MergeError(f"--from {url!r} is not a database URL: {e}") from None
    if normalized == target.url.render_as_string(hide_password=False):
        raise MergeError("--from names this cluster's own database: nothing to merge")
    # SQLite would silently create an empty file for a mistyped path.
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).is_file()):
        raise MergeError(f"--from: no SQLite database file at {parsed.database!r}")
    return create_engine(normalized)


def _revision(engine: Engine, side: str) -> str | None:
    try:
        return current_revision(engine)
    except sa.exc.OperationalError as e:
        raise MergeError(f"cannot reach {side} {engine.url!r}: {str(e.orig).strip()}") from None


def check_schemas(source: Engine, target: Engine) -> None:
    """Both schemas must be at head: rows of two revisions cannot be copied column for column."""
    head = head_revision()
    sides = (
        ("this cluster's database", target, "run `tandem db migrate`"),
        ("the other database (--from)", source,
         "run `tandem db migrate` with TANDEM__DATABASE__URL set to the other database's URL"),
    )
    for side, engine, fix in sides:
        revision = _revision(engine, side)
        if revision != head:
            raise MergeError(f"{side} {engine.url!r} has its schema at {revision or 'nothing (no Tandem schema)'}, "
                             f"not {head}: {fix}")
