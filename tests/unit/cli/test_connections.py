from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine

from tandem.cli.connections import parse_connection_uri
from tandem.crypto import decrypt
from tandem.db.session import session_scope
from tandem.models import Connection

from .conftest import Cli


def test_parse_uri_like_airflow() -> None:
    fields = parse_connection_uri("postgresql://us%40er:p%2Fss@db.example:5432/sales?sslmode=require&x=1")
    assert fields == {"conn_type": "postgres", "host": "db.example", "schema": "sales", "login": "us@er",
                      "password": "p/ss", "port": 5432, "extra": {"sslmode": "require", "x": "1"}}
    assert parse_connection_uri("google-cloud-platform://")["conn_type"] == "google_cloud_platform"
    extra = parse_connection_uri('http://h?__extra__=%7B%22a%22%3A+%5B1%5D%7D')["extra"]
    assert extra == {"a": [1]}


@pytest.mark.parametrize("uri", ["no-scheme", "http://h:notaport/"])
def test_parse_uri_rejects_malformed(uri: str) -> None:
    with pytest.raises(ValueError):
        parse_connection_uri(uri)


def test_add_from_uri_stores_secrets_encrypted_and_get_masks(cli: Cli, engine: Engine) -> None:
    # When
    added = cli("connections", "add", "pg", "--conn-uri", "postgres://bob:hunter2@db:5432/sales?sslmode=require",
                "--conn-description", "sales DB")
    got = cli("connections", "get", "pg", "-o", "json")

    # Then
    assert added.code == 0
    [row] = json.loads(got.out)
    assert row["password"] == "***" and "hunter2" not in got.out
    assert (row["conn_type"], row["host"], row["port"], row["schema"], row["login"]) == (
        "postgres", "db", 5432, "sales", "bob")
    assert row["extra"] == {"sslmode": "require"} and row["description"] == "sales DB"
    with session_scope(engine) as session:
        stored = session.get(Connection, "pg")
        assert stored is not None and stored.password is not None and stored.extra is not None
        assert "hunter2" not in stored.password and decrypt(stored.password) == "hunter2"
        assert json.loads(decrypt(stored.extra)) == {"sslmode": "require"}


def test_add_from_fields_and_list_hides_secrets(cli: Cli, engine: Engine) -> None:
    added = cli("connections", "add", "api", "--conn-type", "http", "--conn-host", "api.example",
                "--conn-password", "pw", "--conn-extra", '{"token": "t0k", "timeout": 5}')
    listed = cli("connections", "list", "-o", "json")
    got = cli("connections", "get", "api", "-o", "json")
    assert added.code == 0
    assert [r["conn_id"] for r in json.loads(listed.out)] == ["api"]
    assert "pw" not in listed.out and "t0k" not in listed.out and "password" not in listed.out
    assert json.loads(got.out)[0]["extra"] == {"token": "***", "timeout": 5}


def test_add_errors(cli: Cli, engine: Engine) -> None:
    cli("connections", "add", "c1", "--conn-type", "http")
    duplicate = cli("connections", "add", "c1", "--conn-type", "http")
    neither = cli("connections", "add", "c2")
    both = cli("connections", "add", "c3", "--conn-uri", "http://h", "--conn-host", "x")
    bad_extra = cli("connections", "add", "c4", "--conn-type", "http", "--conn-extra", "[1]")
    assert duplicate.code == 1 and "connection 'c1' already exists" in duplicate.err
    assert neither.code == 1 and "--conn-uri or --conn-type" in neither.err
    assert both.code == 1 and "cannot be combined" in both.err
    assert bad_extra.code == 1 and "JSON object" in bad_extra.err


def test_get_and_delete_unknown(cli: Cli, engine: Engine) -> None:
    cli("connections", "add", "c1", "--conn-type", "http")
    assert cli("connections", "delete", "c1").code == 0
    got = cli("connections", "get", "c1")
    deleted = cli("connections", "delete", "c1")
    assert got.code == deleted.code == 1 and "connection 'c1' not found" in got.err


def test_missing_fernet_key_is_a_one_line_error(cli: Cli, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from tandem.config import reset_settings

    monkeypatch.setenv("TANDEM__CORE__FERNET_KEY", "")
    reset_settings()
    added = cli("connections", "add", "c1", "--conn-type", "http", "--conn-password", "pw")
    assert added.code == 1 and added.err.startswith("Error: core.fernet_key is not set")
