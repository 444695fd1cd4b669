"""Session handling (Airflow CVE-2020-17515, CVE-2022-45402, CVE-2023-40273 sessions kept after a password reset).

Logout, a password change and disabling a user end sessions server-side (a copied cookie stops
working); tokens list, expire and revoke; failed logins are throttled per user with backoff and
cost the same for unknown and known users.
"""

from __future__ import annotations

import time

import httpx

from tests.api.server import Api
from tests.api.test_auth import csrf_of, login
from tests.security.helpers import PASSWORD, bearer, new_user


def _copy(api: Api, client: httpx.Client) -> httpx.Client:
    """Another browser holding the same session cookie (what a thief would have)."""
    return httpx.Client(base_url=api.url, cookies={"tandem_session": client.cookies["tandem_session"]})


def test_logout_ends_the_session_everywhere(api: Api) -> None:
    name = new_user(api)
    with login(api, name, PASSWORD) as client, _copy(api, client) as stolen:
        assert stolen.get("/api/v1/users/me").status_code == 200
        client.post("/logout", headers={"X-CSRF-Token": csrf_of(client)})
        assert stolen.get("/api/v1/users/me").status_code == 401


def test_password_change_and_disabling_end_sessions(api: Api, admin: httpx.Client) -> None:
    for change in ({"password": "An0ther-pass-word"}, {"active": False}):
        name = new_user(api)
        with login(api, name, PASSWORD) as client:
            assert client.get("/api/v1/users/me").status_code == 200
            admin.patch(f"/api/v1/users/{name}", json=change).raise_for_status()
            assert client.get("/api/v1/users/me").status_code == 401, change


def test_tokens_are_listed_revoked_and_expire(api: Api, admin: httpx.Client) -> None:
    name = new_user(api)
    with login(api, name, PASSWORD) as client:
        headers = {"X-CSRF-Token": csrf_of(client)}
        made = client.post("/api/v1/users/me/tokens", json={"description": "ci"}, headers=headers).json()
        assert made["expires_at"] is not None  # security.token_default_expiry_days
        listed = client.get("/api/v1/users/me/tokens").json()["tokens"]
        assert [t["description"] for t in listed] == ["ci"] and "token" not in listed[0]
        assert "ci" in client.get("/my-tokens").text
        with bearer(api, made["token"]) as script:
            assert script.get("/api/v1/users/me").status_code == 200
            client.delete(f"/api/v1/users/me/tokens/{listed[0]['id']}", headers=headers).raise_for_status()
            assert script.get("/api/v1/users/me").status_code == 401
        too_long = client.post("/api/v1/users/me/tokens", json={"expires_in_days": 5000}, headers=headers)
        assert too_long.status_code == 400 and "token_max_expiry_days" in too_long.json()["detail"]


def test_failed_logins_are_throttled_with_backoff(api: Api) -> None:
    name = new_user(api)
    with httpx.Client(base_url=api.url, auth=(name, "wrong-password")) as guesser:
        for _ in range(6):
            assert guesser.get("/api/v1/users/me").status_code == 401
    # Now blocked: even the right password is refused until the backoff has passed.
    with httpx.Client(base_url=api.url, auth=(name, PASSWORD)) as owner:
        assert owner.get("/api/v1/users/me").status_code == 401
        time.sleep(2.2)
        assert owner.get("/api/v1/users/me").status_code == 200
    from tandem.db.session import session_scope
    from tandem.models import LoginFailure
    from tests.api.server import direct_engine

    with direct_engine(api) as engine, session_scope(engine) as session:
        assert session.get(LoginFailure, f"user:{name}") is None  # the success cleared the user's counter


def test_unknown_and_known_users_cost_the_same(api: Api) -> None:
    name = new_user(api)

    def timed(username: str) -> float:
        with httpx.Client(base_url=api.url, auth=(username, "Wrong-guess-1")) as client:
            started = time.perf_counter()
            assert client.get("/api/v1/version").status_code == 401
            return time.perf_counter() - started

    known = min(timed(name) for _ in range(2))
    unknown = min(timed(f"{name}_nobody") for _ in range(2))
    assert unknown > known * 0.5, (known, unknown)
