"""Unauthenticated access (Airflow CVE-2020-13927 experimental API, CVE-2023-39508 metrics/logs).

Every API operation in the OpenAPI schema, every UI page and /metrics refuse a caller without
credentials; only /health answers.
"""

from __future__ import annotations

import re

import httpx

from tests.api.server import Api

PAGES = ["/", "/dags", "/dags/api_demo/grid", "/dags/api_demo/runs", "/variables", "/connections", "/users", "/cluster",
         "/my-tokens", "/audit-log", "/dags/api_demo/runs/seeded/tasks/numbers", "/import-errors"]

# The JSON the grid, graph and details panel fetch is behind the same login.
PAGES += ["/dags/api_demo/grid/data", "/dags/api_demo/graph/states", "/dags/api_demo/runs/seeded/details",
          "/dags/api_demo/runs/seeded/tasks/numbers/details"]


def test_every_api_operation_needs_credentials(api: Api) -> None:
    schema = httpx.get(f"{api.url}/api/v1/openapi.json").json()
    with httpx.Client(base_url=api.url) as anonymous:
        for path, operations in schema["paths"].items():
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            for method in operations:
                if path.endswith("/health"):
                    continue
                response = anonymous.request(method.upper(), concrete)
                assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"


def test_pages_and_metrics_need_credentials(api: Api) -> None:
    with httpx.Client(base_url=api.url) as anonymous:
        for page in PAGES:
            response = anonymous.get(page)
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), page
        assert anonymous.get("/metrics").status_code == 401
        assert anonymous.get("/health").status_code == 200
