from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from tandem.cli.config_cmd import mask_url
from tandem.config import get_settings

from .conftest import Cli


def test_show_masks_secrets_and_names_env_vars(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given secrets in the generated tandem.toml and a database URL with a password
    monkeypatch.setenv("TANDEM__DATABASE__URL", "postgresql://tandem:dbpass@db:5432/tandem")
    monkeypatch.setenv("TANDEM__CELERY__BROKER_URL", "redis://:brokerpass@redis:6379/0")

    # When
    result = cli("config", "show", "-o", "json")

    # Then
    rows = {(r["section"], r["key"]): r for r in json.loads(result.out)}
    cfg = get_settings()
    assert result.code == 0
    assert cfg.core.fernet_key and cfg.api.secret_key
    for secret in (cfg.core.fernet_key, cfg.api.secret_key, "dbpass", "brokerpass"):
        assert secret not in result.out
    assert rows[("core", "fernet_key")]["value"] == "***"
    assert rows[("core", "fernet_key")]["source"] == "file"
    assert rows[("database", "url")]["value"] == "postgresql://tandem:***@db:5432/tandem"
    assert rows[("database", "url")]["env_var"] == "TANDEM__DATABASE__URL"
    assert rows[("database", "url")]["source"] == "env"
    assert rows[("celery", "broker_url")]["value"] == "redis://:***@redis:6379/0"
    assert rows[("scheduler", "poll_interval")] == {
        "section": "scheduler", "key": "poll_interval", "value": 1.0,
        "env_var": "TANDEM__SCHEDULER__POLL_INTERVAL", "source": "default"}


def test_show_one_section_and_unknown_section(cli: Cli) -> None:
    api = json.loads(cli("config", "show", "--section", "api", "-o", "json").out)
    unknown = cli("config", "show", "--section", "nope")
    assert {r["section"] for r in api} == {"api"}
    assert unknown.code == 1 and "unknown section 'nope'" in unknown.err


def test_get_value(cli: Cli, dags_folder: object) -> None:
    assert cli("config", "get-value", "core", "dags_folder").out.strip() == str(dags_folder)
    assert cli("config", "get-value", "core", "load_examples").out.strip() == "False"
    missing = cli("config", "get-value", "core", "nope")
    assert missing.code == 1 and "section 'core' has no key 'nope'" in missing.err


def test_generate_key_is_a_fernet_key(cli: Cli) -> None:
    key = cli("config", "generate-key").out.strip()
    Fernet(key.encode())  # raises on a malformed key


def test_mask_url_leaves_urls_without_password() -> None:
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert mask_url("amqp://u:p@h//") == "amqp://u:***@h//"
