"""Login, session cookies, CSRF, secure headers and escaping, through real HTTP."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.api.server import PASSWORD, Api


@contextmanager
def login(api: Api, username: str, password: str, next_url: str = "/dags") -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        page = client.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text)
        assert token, page.text
        response = client.post("/login", data={"username": username, "password": password,
                                               "login_token": token.group(1), "next": next_url})
        assert response.status_code == 303, response.text
        yield client


def csrf_of(client: httpx.Client) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]*)">', client.get("/dags").text)
    assert match and match.group(1)
    return match.group(1)


def test_pages_redirect_to_login_and_login_works(api: Api) -> None:
    with httpx.Client(base_url=api.url) as anonymous:
        response = anonymous.get("/dags/api_demo/grid")
        assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fdags%2Fapi_demo%2Fgrid"
    with login(api, "viewer", PASSWORD.format(role="viewer"), "/dags/api_demo/grid") as client:
        page = client.get("/dags/api_demo/grid")
        assert page.status_code == 200 and 'id="grid-data"' in page.text  # grid.js draws it
        cookie = client.cookies.get("tandem_session")
        assert cookie
        assert client.get("/api/v1/users/me").json()["username"] == "viewer"


def test_session_cookie_flags(api: Api) -> None:
    with httpx.Client(base_url=api.url) as client:
        token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text)
        assert token
        response = client.post("/login", data={"username": "user", "password": PASSWORD.format(role="user"),
                                               "login_token": token.group(1), "next": "https://evil.example/"})
        assert response.headers["location"] == "/dags"  # no open redirect
        header = response.headers["set-cookie"].lower()
        assert "httponly" in header and "samesite=lax" in header and "path=/" in header


def test_wrong_password_and_missing_form_token(api: Api) -> None:
    with httpx.Client(base_url=api.url) as client:
        token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text)
        assert token
        wrong = client.post("/login", data={"username": "admin", "password": "nope", "login_token": token.group(1)})
        assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
        assert "tandem_session" not in client.cookies
        forged = client.post("/login", data={"username": "admin", "password": PASSWORD.format(role="admin"),
                                             "login_token": "forged"})
        assert forged.status_code == 400 and "tandem_session" not in client.cookies


def test_csrf_is_required_for_cookie_writes(api: Api) -> None:
    with login(api, "user", PASSWORD.format(role="user")) as client:
        without = client.patch("/api/v1/dags/api_demo", json={"is_paused": False})
        assert without.status_code == 403 and "CSRF" in without.json()["detail"]
        wrong = client.patch("/api/v1/dags/api_demo", json={"is_paused": False}, headers={"X-CSRF-Token": "x"})
        assert wrong.status_code == 403
        ok = client.patch("/api/v1/dags/api_demo", json={"is_paused": False}, headers={"X-CSRF-Token": csrf_of(client)})
        assert ok.status_code == 200
        assert client.get("/api/v1/dags/api_demo").status_code == 200  # reads need no token
        out = client.post("/logout", data={"csrf_token": csrf_of(client)})
        assert out.status_code == 303
        client.cookies.clear()
        assert client.get("/api/v1/users/me").status_code == 401


def test_a_forged_or_stale_cookie_is_refused(api: Api) -> None:
    name = f"u_{uuid.uuid4().hex[:8]}"
    with api.client("admin") as admin:
        admin.post("/api/v1/users", json={"username": name, "password": "first-Pass-1", "role": "viewer"}).raise_for_status()
        with login(api, name, "first-Pass-1") as client:
            assert client.get("/api/v1/users/me").status_code == 200
            admin.patch(f"/api/v1/users/{name}", json={"password": "second-Pass-2"}).raise_for_status()
            assert client.get("/api/v1/users/me").status_code == 401  # a password reset ends old sessions
    with httpx.Client(base_url=api.url, cookies={"tandem_session": "eyJ1aWQiOjF9.forged.sig"}) as client:
        assert client.get("/api/v1/users/me").status_code == 401


def test_secure_headers(api: Api) -> None:
    for path in ("/login", "/api/v1/version", "/health"):
        response = httpx.get(api.url + path, headers={"Authorization": f"Bearer {api.tokens['viewer']}"})
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_user_text_is_escaped_in_pages(api: Api) -> None:
    with login(api, "admin", PASSWORD.format(role="admin")) as client:
        grid = client.get("/dags/api_demo/grid").text
        assert "<script>alert('x')</script>" not in grid and "&lt;script&gt;" in grid
        headers = {"X-CSRF-Token": csrf_of(client)}
        refused = client.post("/api/v1/dags/api_demo/dagRuns", headers=headers,
                              json={"dag_run_id": "x<img src=x onerror=alert(1)>"})
        assert refused.status_code == 400 and "identifier_pattern" in refused.json()["detail"]
        client.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": "escaped", "conf": {"evil": "<b>conf</b>"}},
                    headers=headers).raise_for_status()
        runs = client.get("/dags/api_demo/runs").text
        assert "&lt;b&gt;conf&lt;/b&gt;" in runs


def test_every_page_renders_for_its_roles(api: Api) -> None:
    pages = ["/dags", "/dags?search=api&status=active&tag=demo", "/dags/api_demo/grid", "/dags/api_demo/graph",
             "/dags/api_demo/graph?expand=report", "/dags/api_demo/graph?run_id=seeded", "/dags/api_demo/gantt",
             "/dags/api_demo/gantt?run_id=seeded", "/dags/api_demo/code", "/dags/api_demo/runs",
             "/dags/api_demo/runs/seeded/tasks/numbers", "/import-errors", "/cluster",
             "/dags?sort=-last_run", "/dags?sort=owner&status=active", "/dags/api_demo/grid/data",
             "/dags/api_demo/grid/data?mapped=double", "/dags/api_demo/graph/states?run_id=seeded&expand=report",
             "/dags/api_demo/runs/seeded/details", "/dags/api_demo/runs/seeded/tasks/numbers/details"]
    with login(api, "viewer", PASSWORD.format(role="viewer")) as viewer:
        for page in pages:
            response = viewer.get(page)
            assert response.status_code == 200, (page, response.text[:500])
        assert viewer.get("/dags/api_demo/trigger").status_code == 403
        assert viewer.get("/variables").status_code == 403
        assert viewer.get("/dags/nope/grid").status_code == 404
        assert viewer.get("/dags?sort=fileloc").status_code == 400
        assert viewer.get("/dags/api_demo/grid/data?mapped=total").status_code == 404
        assert viewer.get("/dags/api_demo/runs/nope/details").status_code == 404
        details = viewer.get("/dags/api_demo/runs/seeded/tasks/numbers/details").json()
        assert details["tries"][0]["hostname"] == "seed-host" and details["xcoms"][0]["key"] == "return_value"
        assert "line one" not in viewer.get("/dags/api_demo/runs/seeded/tasks/numbers").text  # log comes by fetch
    with login(api, "admin", PASSWORD.format(role="admin")) as admin:
        for page in ("/dags/api_demo/trigger", "/variables", "/connections", "/pools", "/users"):
            assert admin.get(page).status_code == 200, page
        trigger = admin.get("/dags/api_demo/trigger").text
        assert 'data-param="n"' in trigger and 'max="5"' in trigger
        code = admin.get("/dags/api_demo/code").text
        # Highlighted by Pygments, which escapes every token: the doc's <script> stays text.
        assert '<span class="s2">&quot;api_demo&quot;</span>' in code or '<span class="s2">"api_demo"</span>' in code
        assert "<script>alert" not in code and "&lt;script&gt;alert" in code
