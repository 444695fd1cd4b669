"""Schema safety: migrations round-trip and match the models on every database, nodes
migrating at once are serialised, and a node refuses a schema older or newer than its code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from tandem.config import get_settings
from tandem.db.dialects import MigrationLockTimeout, dialect_for
from tandem.db.engine import get_engine
from tandem.db.migrate import (
    SchemaNotCurrent,
    check_schema_current,
    current_revision,
    downgrade,
    head_revision,
    migrate,
)
from tandem.models.base import Base

ALL = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)]
SERVERS = [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)]
FIRST_REVISION = "0001"


def schema_drift(engine: Engine) -> list[object]:
    """What autogenerate would change to make the schema match the models (empty: none)."""
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata))


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


@pytest.mark.parametrize("db_url", ALL, indirect=True)
def test_upgrade_downgrade_upgrade_matches_the_models(db_url: str) -> None:
    eng = get_engine(db_url)

    # When the schema is created, taken down step by step to nothing, and created again
    migrate(eng)
    created = tables(eng), schema_drift(eng)
    downgrade(eng, FIRST_REVISION)
    at_first = current_revision(eng), tables(eng)
    migrate(eng)
    downgrade(eng, "base")
    emptied = current_revision(eng), tables(eng)
    migrate(eng)

    # Then every step lands where it should, and the schema is exactly the models', both times
    assert created == ({t.name for t in Base.metadata.sorted_tables}, [])
    assert at_first[0] == FIRST_REVISION and "tandem_user" not in at_first[1] and "task_instance" in at_first[1]
    assert emptied == (None, set())
    assert current_revision(eng) == head_revision()
    assert schema_drift(eng) == []


@pytest.mark.parametrize("db_url", SERVERS, indirect=True)
def test_two_nodes_migrating_at_once_both_succeed(db_url: str, tandem_home: Path) -> None:
    # Given an empty database and two nodes
    env = {**os.environ, "TANDEM__DATABASE__URL": db_url}
    command = [sys.executable, "-m", "tandem", "db", "migrate"]

    # When both run `tandem db migrate` at the same moment
    nodes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(node.wait(120), *node.communicate()) for node in nodes]

    # Then both succeed, one migrating and the other finding the schema current, and it is right
    assert [code for code, _, _ in results] == [0, 0], results
    outputs = sorted(out for _, out, _ in results)
    assert "already current" in outputs[0] and "from empty to" in outputs[1], outputs
    eng = get_engine(db_url)
    assert current_revision(eng) == head_revision() and schema_drift(eng) == []
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pool")).scalar() == 1


@pytest.mark.parametrize("db_url", SERVERS, indirect=True)
def test_a_migration_waits_for_the_lock_a_bounded_time(db_url: str) -> None:
    # Given a node in the middle of a migration (it holds the migration lock)
    eng = get_engine(db_url)
    settings = get_settings()
    bounded = settings.model_copy(update={"database": settings.database.model_copy(
        update={"migration_lock_timeout": 1.0})})
    dialect = dialect_for(db_url)
    with eng.begin() as holder, dialect.migration_lock(holder, 5):
        # When another node migrates, Then it gives up after migration_lock_timeout
        with pytest.raises(MigrationLockTimeout):
            migrate(get_engine(db_url), bounded)
    # and once the lock is free, it migrates
    migrate(eng, bounded)
    assert current_revision(eng) == head_revision()


def _refusal(role: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tandem", role], capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize("role", ["scheduler", "dag-processor", "api-server", "worker", "standalone"])
def test_every_node_refuses_an_older_or_a_newer_schema(engine: Engine, role: str) -> None:
    # Given a schema one migration behind this code
    downgrade(engine, FIRST_REVISION)
    older = _refusal(role)
    # and one written by a newer Tandem
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    newer = _refusal(role)

    # Then the node does not start, and says in one line what to do
    head = head_revision()
    assert older.returncode == 1 and newer.returncode == 1
    assert older.stderr.strip().splitlines()[-1] == (
        f"Error: the database schema is at revision {FIRST_REVISION}, older than this Tandem's {head}: "
        "run `tandem db migrate`")
    assert newer.stderr.strip().splitlines()[-1].startswith(
        f"Error: the database schema is at revision 9999_future, newer than this Tandem's {head}")
    assert "upgrade Tandem on this node" in newer.stderr
    assert "Traceback" not in older.stderr + newer.stderr


def contents(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, sorted."""
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(sa.text(f"SELECT * FROM {t}")))) for t in sorted(tables(engine))}


def test_an_empty_single_node_database_is_created_at_start(db_url: str, tmp_path: Path) -> None:
    # Given an empty SQLite database, created at a node's start from the models (not migrations)
    eng = get_engine(db_url)
    check_schema_current(eng)
    # Then Alembic finds it at head, with the models' schema and every row the migrations write
    assert current_revision(eng) == head_revision()
    assert tables(eng) == {t.name for t in Base.metadata.sorted_tables}
    assert schema_drift(eng) == []
    migrated = get_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    migrate(migrated)
    assert contents(eng) == contents(migrated)
    assert contents(eng)["tandem_role"] and contents(eng)["pool"] and contents(eng)["tandem_lock"]
    # And the migrations work on it as on a migrated one: down to the first revision and back
    downgrade(eng, FIRST_REVISION)
    assert current_revision(eng) == FIRST_REVISION
    migrate(eng)
    assert current_revision(eng) == head_revision()
    assert schema_drift(eng) == []


@pytest.mark.parametrize("db_url", SERVERS, indirect=True)
def test_an_empty_shared_database_is_left_to_db_migrate(db_url: str) -> None:
    with pytest.raises(SchemaNotCurrent, match=r"no Tandem schema .* run `tandem db migrate`"):
        check_schema_current(get_engine(db_url))
