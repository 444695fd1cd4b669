"""Alembic environment: runs migrations on the connection ``tandem.db.migrate`` hands over."""

from __future__ import annotations

from alembic import context

import tandem.models  # noqa: F401  (registers every table)
from tandem.models.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
