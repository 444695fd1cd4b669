from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine

from tandem.db.session import session_scope
from tandem.models import Variable

from .conftest import Cli


def test_set_get_round_trip_is_encrypted_at_rest(cli: Cli, engine: Engine) -> None:
    # When
    set_ = cli("variables", "set", "api_token", "s3cr3t", "--description", "for the API")
    got = cli("variables", "get", "api_token")

    # Then
    assert set_.code == 0 and got.code == 0 and got.out == "s3cr3t\n"
    with session_scope(engine) as session:
        row = session.get(Variable, "api_token")
        assert row is not None and row.is_encrypted and "s3cr3t" not in row.val
        assert row.description == "for the API"


def test_missing_key_is_an_error_unless_default(cli: Cli, engine: Engine) -> None:
    missing = cli("variables", "get", "nope")
    default = cli("variables", "get", "nope", "--default", "fallback")
    assert missing.code == 1 and missing.err == "Error: variable 'nope' not found\n"
    assert default.code == 0 and default.out == "fallback\n"


def test_json_values(cli: Cli, engine: Engine) -> None:
    cli("variables", "set", "cfg", '{"a": [1, 2]}', "--json")
    got = cli("variables", "get", "cfg", "--json")
    bad = cli("variables", "set", "cfg", "{oops", "--json")
    assert json.loads(got.out) == {"a": [1, 2]}
    assert bad.code == 1 and "not valid JSON" in bad.err


def test_list_shows_keys_not_values(cli: Cli, engine: Engine) -> None:
    cli("variables", "set", "b", "secret-b")
    cli("variables", "set", "a", "secret-a")
    listed = cli("variables", "list", "-o", "json")
    assert [r["key"] for r in json.loads(listed.out)] == ["a", "b"]
    assert "secret" not in listed.out


def test_delete(cli: Cli, engine: Engine) -> None:
    cli("variables", "set", "k", "v")
    assert cli("variables", "delete", "k").code == 0
    again = cli("variables", "delete", "k")
    assert again.code == 1 and "variable 'k' not found" in again.err


def test_import_then_export_round_trip(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    # Given
    source = tmp_path / "vars.json"
    source.write_text(json.dumps({"s": "text", "n": 3, "obj": {"x": [1]}}))

    # When
    imported = cli("variables", "import", str(source))
    exported = cli("variables", "export", str(tmp_path / "out.json"))

    # Then non-strings are stored as JSON text and objects come back as objects
    assert imported.code == 0 and exported.code == 0
    assert cli("variables", "get", "n").out == "3\n"
    assert json.loads((tmp_path / "out.json").read_text()) == {"s": "text", "n": "3", "obj": {"x": [1]}}
    assert (tmp_path / "out.json").stat().st_mode & 0o077 == 0


def test_import_rejects_bad_files(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "broken.json").write_text("{")
    as_list = cli("variables", "import", str(tmp_path / "list.json"))
    broken = cli("variables", "import", str(tmp_path / "broken.json"))
    absent = cli("variables", "import", str(tmp_path / "absent.json"))
    assert as_list.code == broken.code == absent.code == 1
    assert "must hold a JSON object" in as_list.err and "not valid JSON" in broken.err
    assert "cannot read" in absent.err and "Traceback" not in absent.err + broken.err
