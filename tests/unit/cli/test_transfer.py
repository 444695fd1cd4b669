"""``tandem connections import|export`` and ``tandem pools import|export``."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from sqlalchemy.engine import Engine

from tandem.db.session import session_scope
from tandem.models import Connection, Pool

from .conftest import Cli


def test_connections_round_trip_with_passwords_in_an_owner_only_file(cli: Cli, engine: Engine,
                                                                   tmp_path: Path) -> None:
    # Given a connections file in Airflow's format
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"warehouse": {"conn_type": "postgres", "host": "db", "port": 5432,
                                                "password": "pw-1234", "extra": {"sslmode": "require"}}}))
    # When it is imported and exported again
    imported = cli("connections", "import", str(source))
    exported = cli("connections", "export", str(tmp_path / "out.json"))
    # Then the export holds the password (the CLI is an admin's tool) in a file only its owner reads
    assert imported.code == 0 and "1 created" in imported.out, imported.err
    assert exported.code == 0
    out = tmp_path / "out.json"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    entry = json.loads(out.read_text())["warehouse"]
    assert entry["password"] == "pw-1234" and json.loads(entry["extra"]) == {"sslmode": "require"}


def test_a_bad_file_is_refused_whole(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "pools.json"
    bad.write_text(json.dumps({"good": {"slots": 2}, "bad": {"slots": "many"}}))
    refused = cli("pools", "import", str(bad))
    assert refused.code == 1 and "pool 'bad': slots must be an integer" in refused.err
    broken = tmp_path / "broken.json"
    broken.write_text('{"x": {"conn_type": "http"},')
    assert "not valid JSON" in cli("connections", "import", str(broken)).err
    with session_scope(engine) as session:
        assert session.get(Pool, "good") is None and session.get(Connection, "x") is None
    bad.write_text(json.dumps({"good": {"slots": 2, "description": "ok"}}))
    assert cli("pools", "import", str(bad)).code == 0
    assert json.loads(cli("pools", "export", "-").out)["good"] == {"slots": 2, "description": "ok"}


def test_variables_import_is_all_or_nothing_and_keeps_descriptions(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "vars.json"
    source.write_text(json.dumps({"kept_out": "x", "": "no name"}))
    refused = cli("variables", "import", str(source))
    assert refused.code == 1 and "the name must be 1-250 characters" in refused.err
    assert cli("variables", "get", "kept_out").code == 1
    source.write_text(json.dumps({"bucket": {"value": "s3://raw", "description": "landing zone"}}))
    assert cli("variables", "import", str(source)).code == 0
    assert json.loads(cli("variables", "export", "-").out) == {
        "bucket": {"value": "s3://raw", "description": "landing zone"}}
