"""CSRF (Airflow CVE-2021-26697 and the login CSRF class): cookie writes need the session's token,
and the login form's token works only in the browser that fetched the form."""

from __future__ import annotations

import re

import httpx

from tests.api.server import PASSWORD, Api
from tests.api.test_auth import login


def test_cookie_writes_without_the_csrf_token_are_refused(api: Api) -> None:
    with login(api, "user", PASSWORD.format(role="user")) as client:
        response = client.patch("/api/v1/dags/api_demo", json={"is_paused": True})
        assert response.status_code == 403 and "CSRF" in response.json()["detail"]
        forged = client.patch("/api/v1/dags/api_demo", json={"is_paused": True}, headers={"X-CSRF-Token": "x" * 32})
        assert forged.status_code == 403


def test_a_login_token_from_another_browser_is_refused(api: Api) -> None:
    with httpx.Client(base_url=api.url) as attacker:
        token = re.search(r'name="login_token" value="([^"]+)"', attacker.get("/login").text)
        assert token
    with httpx.Client(base_url=api.url) as victim:  # never fetched the form: no nonce cookie
        response = victim.post("/login", data={"username": "viewer", "password": PASSWORD.format(role="viewer"),
                                               "login_token": token.group(1)})
        assert response.status_code == 400 and "tandem_session" not in response.cookies
