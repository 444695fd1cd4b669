"""Schema management: ``tandem db migrate | check | reset`` call these."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from tandem.db.dialects import dialect_for
from tandem.models import DEFAULT_POOL, Lock, Pool
from tandem.models.base import Base
from tandem.models.pool import DEFAULT_POOL_SLOTS

MIGRATIONS = Path(__file__).parent / "migrations"
# Named lock rows the scheduler takes with NOWAIT (see scheduler/critical_section.py).
LOCK_NAMES = ("scheduler_critical_section",)


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade to the newest schema and seed required rows; safe to run any number of times."""
    before = current_revision(engine)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    _seed(engine)
    return before, head_revision()


def _seed(engine: Engine) -> None:
    dialect = dialect_for(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        conn.execute(dialect.insert_ignore(
            cast(sa.Table, Pool.__table__), [{"name": DEFAULT_POOL, "slots": DEFAULT_POOL_SLOTS, "description": "Default pool"}]
        ))
        conn.execute(dialect.insert_ignore(cast(sa.Table, Lock.__table__), [{"name": n} for n in LOCK_NAMES]))


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def reset(engine: Engine) -> None:
    """Drop every Tandem table and the migration history, then migrate from scratch."""
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    migrate(engine)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (developer tool)."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
