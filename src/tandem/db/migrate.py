"""Schema management: ``tandem db migrate | check | reset`` and every node's start call these.

Migrations hold a database-wide lock (``BaseDialect.migration_lock``), so any number of
nodes may run them at once: the first upgrades, the others wait and find nothing left to do.
A node runs only against the schema its code was written for (``check_schema_current``).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem import __version__
from tandem.config import Settings, get_settings
from tandem.db.dialects import BaseDialect, dialect_for
from tandem.models import DEFAULT_POOL, Lock, Pool
from tandem.models.base import Base, table_of
from tandem.models.pool import DEFAULT_POOL_SLOTS
from tandem.models.user import ROLES, Role

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Named lock rows the scheduler takes with NOWAIT (see scheduler/critical_section.py).
LOCK_NAMES = ("scheduler_critical_section",)


class SchemaNotCurrent(Exception):
    """The database's schema is not the one this code was written for; the message says what to run."""


def _config() -> Config:
    # Alembic is imported only to migrate or explain: every node's start checks the schema,
    # and importing alembic would cost it more than the check itself.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _dialect(engine: Engine) -> BaseDialect:
    return dialect_for(engine.url.render_as_string(hide_password=False))


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*=\s*['\"]?([^'\"\s]+)['\"]?\s*$", re.MULTILINE)


@cache
def scripted_head() -> str | None:
    """The head revision read from the migration files' ``revision``/``down_revision`` lines.

    What ``head_revision`` answers, without importing alembic; a test keeps the two equal.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _stored_revision(engine: Engine) -> str | None:
    """The database's revision read directly; None when there is no version table (yet)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    except sa.exc.ProgrammingError:  # no such table (SQLite raises OperationalError: see below)
        return None
    except sa.exc.OperationalError as e:
        if "no such table" in str(e):
            return None
        raise
    return rows[0] if len(rows) == 1 else None


def _run_locked(engine: Engine, settings: Settings | None, target: str, *, downgrade: bool = False) -> str | None:
    """Upgrade or downgrade to ``target`` under the migration lock; the revision found before."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    settings = settings or get_settings()
    dialect = _dialect(engine)
    cfg = _config()
    with engine.begin() as conn, dialect.migration_lock(conn, settings.database.migration_lock_timeout):
        before = MigrationContext.configure(conn).get_current_revision()
        with dialect.unbounded_statements(conn):  # a migration may rewrite big tables
            cfg.attributes["connection"] = conn
            if downgrade:
                command.downgrade(cfg, target)
            else:
                command.upgrade(cfg, target)
    return before


def migrate(engine: Engine, settings: Settings | None = None) -> tuple[str | None, str | None]:
    """Upgrade to the newest schema and seed required rows; safe to run any number of times, at once."""
    before = _run_locked(engine, settings, "head")
    _seed(engine)
    return before, head_revision()


def downgrade(engine: Engine, target: str, settings: Settings | None = None) -> None:
    """Downgrade to revision ``target`` (``base``: no Tandem table left)."""
    _run_locked(engine, settings, target, downgrade=True)


def _seed(engine: Engine) -> None:
    dialect = _dialect(engine)
    with engine.begin() as conn:
        conn.execute(dialect.insert_ignore(
            table_of(Pool), [{"name": DEFAULT_POOL, "slots": DEFAULT_POOL_SLOTS, "description": "Default pool"}]
        ))
        conn.execute(dialect.insert_ignore(table_of(Lock), [{"name": n} for n in LOCK_NAMES]))


def schema_problem(engine: Engine) -> str | None:
    """Why the schema is not this code's Alembic head, with what to run; None when it is."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return None
    if current is None:
        return f"the database has no Tandem schema (this Tandem needs revision {head}): run `tandem db migrate`"
    if current in known_revisions():
        return f"the database schema is at revision {current}, older than this Tandem's {head}: run `tandem db migrate`"
    return (f"the database schema is at revision {current}, newer than this Tandem's {head} "
            f"(Tandem {__version__}): a newer Tandem migrated it; upgrade Tandem on this node")


def check_schema_current(engine: Engine) -> None:
    """Raise SchemaNotCurrent unless the schema is this code's Alembic head. Every node calls it at start.

    An empty single-node database (SQLite) is migrated instead: no other node can be migrating
    it, and ``tandem standalone`` on a fresh home works at once.
    """
    head = scripted_head()
    stored = _stored_revision(engine)
    if head is not None and stored == head:
        return
    if stored is None and not _dialect(engine).supports_multiple_schedulers and _is_empty(engine):
        log.info("creating the database schema (%s) in %s", head, engine.url)
        _create_fresh(engine, head)
        return
    problem = schema_problem(engine)
    if problem is not None:
        raise SchemaNotCurrent(problem)


# Alembic's own version table, as Alembic creates it.
_ALEMBIC_VERSION = sa.Table("alembic_version", sa.MetaData(), sa.Column("version_num", sa.String(32), nullable=False),
                            sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))


def _create_fresh(engine: Engine, head: str | None) -> None:
    """An empty database gets the models' tables and Alembic's version row at once, as Airflow
    creates a fresh one: the same schema as every migration in turn (a test keeps the two
    equal), without importing Alembic, which alone costs ``standalone``'s first start a fifth
    of a second."""
    if head is None:  # several heads: only Alembic can tell what to do
        migrate(engine)
        return
    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        _ALEMBIC_VERSION.create(conn)
        conn.execute(_ALEMBIC_VERSION.insert().values(version_num=head))
        # What the migrations write besides tables (a test compares every row with a migrated database).
        conn.execute(table_of(Role).insert(), [{"name": n, "rank": r, "description": d} for n, (r, d) in ROLES.items()])
    _seed(engine)


def _is_empty(engine: Engine) -> bool:
    return not sa.inspect(engine).get_table_names()


def reset(engine: Engine) -> None:
    """Drop every Tandem table and the migration history, then migrate from scratch."""
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    migrate(engine)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (developer tool)."""
    from alembic import command

    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)

