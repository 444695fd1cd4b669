"""XSS (Airflow CVE-2022-38170, CVE-2023-47037, CVE-2024-26280): user text is escaped, no inline script runs."""

from __future__ import annotations

import httpx

from tests.api.server import PASSWORD, Api
from tests.api.test_auth import csrf_of, login

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def test_user_text_is_escaped_and_csp_forbids_inline(api: Api, admin: httpx.Client) -> None:
    admin.post("/api/v1/variables", json={"key": "xss_var", "value": PAYLOAD, "description": PAYLOAD})
    admin.post("/api/v1/connections", json={"connection_id": "xss_conn", "conn_type": "http", "host": PAYLOAD,
                                            "description": PAYLOAD, "extra": f'{{"note": "{PAYLOAD}"}}'})
    with login(api, "admin", PASSWORD.format(role="admin")) as client:
        client.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": "xss_run", "conf": {"x": PAYLOAD}},
                    headers={"X-CSRF-Token": csrf_of(client)}).raise_for_status()
        for page in ("/variables", "/dags/api_demo/runs", "/audit-log", "/my-tokens", "/variables/edit?key=xss_var",
                     "/connections?search=xss", "/connections/edit?conn_id=xss_conn",
                     "/dags/api_demo/xcoms?run_id=xss_run", "/dags/api_demo/calendar", "/dags/api_demo/durations",
                     "/assets", "/audit-log?action=xss"):
            response = client.get(page)
            assert response.status_code == 200, page
            assert PAYLOAD not in response.text and "<img src=x" not in response.text, page
            assert "script-src 'self'" in response.headers["content-security-policy"]
        refused = client.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": "<svg onload=alert(1)>"},
                              headers={"X-CSRF-Token": csrf_of(client)})
        assert refused.status_code == 400
