"""Shared or default signing keys (Airflow CVE-2020-17526): a well-known or short api.secret_key is refused,
and a cookie signed with another key opens nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.api.server import Api


@pytest.mark.parametrize("key", ["temporary_key", "changeme", "short"])
def test_weak_secret_keys_are_refused(tandem_home: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    from tandem.api.app import create_app
    from tandem.config import ConfigError, get_settings, reset_settings

    monkeypatch.setenv("TANDEM__API__SECRET_KEY", key)
    reset_settings()
    with pytest.raises(ConfigError, match="secret_key"):
        create_app(get_settings())


def test_a_cookie_signed_with_a_default_key_is_refused(api: Api) -> None:
    forged = URLSafeTimedSerializer("temporary_key", salt="tandem.session").dumps("any-session-id")
    with httpx.Client(base_url=api.url, cookies={"tandem_session": forged}) as client:
        assert client.get("/api/v1/users/me").status_code == 401
