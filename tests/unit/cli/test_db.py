from __future__ import annotations

import io
import os
import pathlib
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tandem.db.engine import get_engine
from tandem.db.migrate import head_revision

from .conftest import Cli


def test_check_fails_on_empty_db_then_passes_after_migrate(cli: Cli) -> None:
    # Given a home whose database has no schema yet
    # When
    before = cli("db", "check")
    migrated = cli("db", "migrate")
    after = cli("db", "check")

    # Then
    assert before.code == 1
    assert "run `tandem db migrate`" in before.err and "Traceback" not in before.err
    assert migrated.code == 0 and "from empty to" in migrated.out
    assert after.code == 0 and "current" in after.out


def test_migrate_is_idempotent(cli: Cli) -> None:
    cli("db", "migrate")
    again = cli("db", "migrate")
    assert again.code == 0 and "already current" in again.out


def test_reset_asks_for_confirmation(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a DB holding a variable
    cli("db", "migrate")
    cli("variables", "set", "k", "v")

    # When the user answers no, then resets with -y
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    refused = cli("db", "reset")
    kept = cli("variables", "get", "k")
    reset = cli("db", "reset", "-y")

    # Then
    assert refused.code == 1 and kept.out.strip() == "v"
    assert reset.code == 0
    with get_engine().connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM variable")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM pool")).scalar() == 1  # default_pool re-seeded


def test_downgrade_then_migrate_again(cli: Cli) -> None:
    # Given a current schema
    cli("db", "migrate")

    # When it is downgraded by one revision, checked, then migrated again
    down = cli("db", "downgrade", "0001", "-y")
    check = cli("db", "check")
    up = cli("db", "migrate")

    # Then each step says where it went, and the check names both revisions
    head = head_revision()
    assert down.code == 0 and "to 0001" in down.out
    assert check.code == 1 and f"at revision 0001, older than this Tandem's {head}" in check.err
    assert up.code == 0 and f"from 0001 to {head}" in up.out


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    from tandem.db.migrate import scripted_head

    assert scripted_head() == head_revision()


def test_a_start_against_a_current_schema_does_not_import_alembic(tmp_path: pathlib.Path) -> None:
    # Given a migrated database
    url = f"sqlite:///{tmp_path / 'tandem.db'}"
    env = {**os.environ, "TANDEM_HOME": str(tmp_path), "TANDEM__DATABASE__URL": url}
    subprocess.run([sys.executable, "-m", "tandem", "db", "migrate"], env=env, check=True, capture_output=True)

    # When a node checks the schema at its start
    probe = ("import sys; from tandem.db.engine import get_engine; from tandem.db.migrate import check_schema_current; "
             "check_schema_current(get_engine()); print(sorted(m for m in sys.modules if m.startswith('alembic')))")
    out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)

    # Then it found the schema current without loading alembic
    assert out.stdout.strip() == "[]"
