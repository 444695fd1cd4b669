"""Small helpers shared by the security tests: users of their own, logged-in browsers."""

from __future__ import annotations

import uuid

import httpx

from tests.api.server import Api

PASSWORD = "Secur1ty-Test-pw"


def new_user(api: Api, role: str = "viewer") -> str:
    name = f"sec_{uuid.uuid4().hex[:10]}"
    with api.client("admin") as admin:
        admin.post("/api/v1/users", json={"username": name, "password": PASSWORD, "role": role}).raise_for_status()
    return name


def direct_db(api: Api):  # type: ignore[no-untyped-def]
    from tests.api.server import direct_engine

    return direct_engine(api)


def bearer(api: Api, token: str) -> httpx.Client:
    return httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
