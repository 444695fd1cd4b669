"""Every route, every role: 401 without credentials, 403 below the route's role, allowed above.

Writes are aimed at objects that do not exist (or carry an invalid body), so an allowed caller
gets a 404/400 and nothing changes: the point is the auth decision, made before any lookup.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.server import ROLES, Api

RUN = "/api/v1/dags/api_demo/dagRuns/seeded"
TI = RUN + "/taskInstances/numbers"
BACKFILL = {"dag_id": "no_such_dag", "from_date": "2024-01-01T00:00:00Z", "to_date": "2024-01-02T00:00:00Z"}
# (method, OpenAPI path, least role, concrete path, JSON body)
MATRIX: list[tuple[str, str, str, str, object]] = [
    ("GET", "/api/v1/dags", "viewer", "/api/v1/dags", None),
    ("GET", "/api/v1/dags/{dag_id}", "viewer", "/api/v1/dags/api_demo", None),
    ("PATCH", "/api/v1/dags/{dag_id}", "user", "/api/v1/dags/no_such_dag", {"is_paused": True}),
    ("DELETE", "/api/v1/dags/{dag_id}", "op", "/api/v1/dags/no_such_dag", None),
    ("GET", "/api/v1/dags/{dag_id}/details", "viewer", "/api/v1/dags/api_demo/details", None),
    ("GET", "/api/v1/dags/{dag_id}/tasks", "viewer", "/api/v1/dags/api_demo/tasks", None),
    ("GET", "/api/v1/dags/{dag_id}/tasks/{task_id}", "viewer", "/api/v1/dags/api_demo/tasks/numbers", None),
    ("GET", "/api/v1/dagSources/{file_token}", "viewer", "/api/v1/dagSources/nope", None),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns", "viewer", "/api/v1/dags/api_demo/dagRuns", None),
    ("POST", "/api/v1/dags/{dag_id}/dagRuns", "user", "/api/v1/dags/no_such_dag/dagRuns", {}),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", "viewer", RUN, None),
    ("DELETE", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", "user", "/api/v1/dags/api_demo/dagRuns/nope", None),
    ("PATCH", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", "user", "/api/v1/dags/api_demo/dagRuns/nope",
     {"state": "success"}),
    ("POST", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/clear", "user", "/api/v1/dags/api_demo/dagRuns/nope/clear",
     {"dry_run": True}),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", "viewer", RUN + "/taskInstances", None),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", "viewer", TI, None),
    ("PATCH", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", "user",
     RUN + "/taskInstances/no_such_task", {"new_state": "success"}),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/listMapped", "viewer",
     RUN + "/taskInstances/double/listMapped", None),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}", "viewer",
     RUN + "/taskInstances/double/0", None),
    ("PATCH", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}", "user",
     RUN + "/taskInstances/double/99", {"new_state": "success"}),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries", "viewer", TI + "/tries",
     None),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries/{task_try_number}", "viewer",
     TI + "/tries/1", None),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}", "viewer",
     TI + "/logs/1", None),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries", "viewer",
     TI + "/xcomEntries", None),
    ("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{xcom_key}", "viewer",
     TI + "/xcomEntries/return_value", None),
    ("POST", "/api/v1/dags/{dag_id}/clearTaskInstances", "user", "/api/v1/dags/no_such_dag/clearTaskInstances",
     {"dry_run": True}),
    ("POST", "/api/v1/dags/{dag_id}/updateTaskInstancesState", "user",
     "/api/v1/dags/no_such_dag/updateTaskInstancesState",
     {"dry_run": True, "task_id": "t", "dag_run_id": "r", "new_state": "success"}),
    ("GET", "/api/v1/variables", "op", "/api/v1/variables", None),
    ("POST", "/api/v1/variables", "op", "/api/v1/variables", {}),
    ("GET", "/api/v1/variables/{variable_key}", "op", "/api/v1/variables/nope", None),
    ("PATCH", "/api/v1/variables/{variable_key}", "op", "/api/v1/variables/nope", {"value": "x"}),
    ("DELETE", "/api/v1/variables/{variable_key}", "op", "/api/v1/variables/nope", None),
    ("GET", "/api/v1/connections", "op", "/api/v1/connections", None),
    ("POST", "/api/v1/connections", "op", "/api/v1/connections", {}),
    ("GET", "/api/v1/connections/{connection_id}", "op", "/api/v1/connections/nope", None),
    ("PATCH", "/api/v1/connections/{connection_id}", "op", "/api/v1/connections/nope", {"host": "x"}),
    ("DELETE", "/api/v1/connections/{connection_id}", "op", "/api/v1/connections/nope", None),
    ("GET", "/api/v1/pools", "viewer", "/api/v1/pools", None),
    ("POST", "/api/v1/pools", "op", "/api/v1/pools", {}),
    ("GET", "/api/v1/pools/{pool_name}", "viewer", "/api/v1/pools/default_pool", None),
    ("PATCH", "/api/v1/pools/{pool_name}", "op", "/api/v1/pools/nope", {"slots": 3}),
    ("DELETE", "/api/v1/pools/{pool_name}", "op", "/api/v1/pools/nope", None),
    ("GET", "/api/v1/variables/export", "op", "/api/v1/variables/export", None),
    ("POST", "/api/v1/variables/import", "op", "/api/v1/variables/import", {}),
    ("GET", "/api/v1/connections/export", "op", "/api/v1/connections/export", None),
    ("POST", "/api/v1/connections/import", "op", "/api/v1/connections/import", {}),
    ("GET", "/api/v1/pools/export", "viewer", "/api/v1/pools/export", None),
    ("POST", "/api/v1/pools/import", "op", "/api/v1/pools/import", {}),
    ("GET", "/api/v1/assets", "viewer", "/api/v1/assets", None),
    ("GET", "/api/v1/dagBundles", "viewer", "/api/v1/dagBundles", None),
    ("GET", "/api/v1/dagBundles/{bundle_name}/versions", "viewer", "/api/v1/dagBundles/dags-folder/versions", None),
    ("GET", "/api/v1/assets/events", "viewer", "/api/v1/assets/events?uri=s3://none", None),
    ("GET", "/api/v1/importErrors", "viewer", "/api/v1/importErrors", None),
    ("GET", "/api/v1/importErrors/{import_error_id}", "viewer", "/api/v1/importErrors/999999", None),
    ("GET", "/api/v1/cluster/nodes", "viewer", "/api/v1/cluster/nodes", None),
    ("GET", "/api/v1/cluster/dashboard", "viewer", "/api/v1/cluster/dashboard", None),
    ("GET", "/api/v1/cluster/metrics-targets", "viewer", "/api/v1/cluster/metrics-targets", None),
    ("GET", "/api/v1/version", "viewer", "/api/v1/version", None),
    ("GET", "/api/v1/users/me", "viewer", "/api/v1/users/me", None),
    ("GET", "/api/v1/users", "admin", "/api/v1/users", None),
    ("POST", "/api/v1/users", "admin", "/api/v1/users", {}),
    ("GET", "/api/v1/users/{username}", "admin", "/api/v1/users/nope", None),
    ("PATCH", "/api/v1/users/{username}", "admin", "/api/v1/users/nope", {"email": "a@b.c"}),
    ("DELETE", "/api/v1/users/{username}", "admin", "/api/v1/users/nope", None),
    ("POST", "/api/v1/users/{username}/tokens", "admin", "/api/v1/users/nope/tokens", {}),
    ("GET", "/api/v1/users/{username}/tokens", "admin", "/api/v1/users/nope/tokens", None),
    ("DELETE", "/api/v1/users/{username}/tokens/{token_id}", "admin", "/api/v1/users/nope/tokens/1", None),
    ("GET", "/api/v1/users/me/tokens", "viewer", "/api/v1/users/me/tokens", None),
    ("POST", "/api/v1/users/me/tokens", "viewer", "/api/v1/users/me/tokens", {"description": "matrix"}),
    ("DELETE", "/api/v1/users/me/tokens/{token_id}", "viewer", "/api/v1/users/me/tokens/999999", None),
    ("GET", "/api/v1/auditLog", "admin", "/api/v1/auditLog", None),
    ("GET", "/api/v1/roles", "admin", "/api/v1/roles", None),
    ("POST", "/api/v1/backfills", "op", "/api/v1/backfills", BACKFILL),
    ("POST", "/api/v1/backfills/dry_run", "op", "/api/v1/backfills/dry_run", BACKFILL),
    ("GET", "/api/v1/backfills", "viewer", "/api/v1/backfills", None),
    ("GET", "/api/v1/backfills/{backfill_id}", "viewer", "/api/v1/backfills/999999", None),
    ("PUT", "/api/v1/backfills/{backfill_id}/pause", "op", "/api/v1/backfills/999999/pause", None),
    ("PUT", "/api/v1/backfills/{backfill_id}/unpause", "op", "/api/v1/backfills/999999/unpause", None),
    ("PUT", "/api/v1/backfills/{backfill_id}/cancel", "op", "/api/v1/backfills/999999/cancel", None),
]
PUBLIC = {("GET", "/api/v1/health"), ("GET", "/health")}
RANK = {role: i for i, role in enumerate(ROLES)}


def _send(client: httpx.Client, method: str, path: str, body: object) -> httpx.Response:
    return client.request(method, path, json=body) if body is not None else client.request(method, path)


def test_matrix_covers_every_route(api: Api) -> None:
    schema = httpx.get(f"{api.url}/api/v1/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    covered = {(m, p) for m, p, *_ in MATRIX} | PUBLIC
    assert routes - covered == set(), "routes without a role test"
    assert {(m, p) for m, p, *_ in MATRIX} - routes == set(), "role tests of routes that do not exist"


@pytest.mark.parametrize(("method", "template", "least", "path", "body"), MATRIX,
                         ids=[f"{m} {p}" for m, p, *_ in MATRIX])
def test_route_roles(api: Api, method: str, template: str, least: str, path: str, body: object) -> None:
    with api.client() as anonymous:
        response = _send(anonymous, method, path, body)
        assert response.status_code == 401, response.text
        assert response.json()["title"] == "Unauthenticated"
        assert "WWW-Authenticate" in response.headers
    for role in ROLES:
        with api.client(role) as client:
            response = _send(client, method, path, body)
        if RANK[role] < RANK[least]:
            assert response.status_code == 403, f"{role}: {response.status_code} {response.text}"
            assert response.json()["title"] == "PermissionDenied"
        else:
            assert response.status_code not in (401, 403), f"{role}: {response.status_code} {response.text}"
            assert response.status_code < 500, response.text


def test_bad_credentials_are_401(api: Api) -> None:
    with httpx.Client(base_url=api.url, headers={"Authorization": "Bearer tdm_wrong"}) as client:
        assert client.get("/api/v1/dags").status_code == 401
    with httpx.Client(base_url=api.url, auth=("admin", "wrong")) as client:
        assert client.get("/api/v1/dags").status_code == 401
    with httpx.Client(base_url=api.url, headers={"Authorization": "Basic !!!not-base64"}) as client:
        assert client.get("/api/v1/dags").status_code == 401
    with httpx.Client(base_url=api.url, headers={"Authorization": "Digest abc"}) as client:
        assert client.get("/api/v1/dags").status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_http_basic_per_role(api: Api, role: str) -> None:
    with api.basic(role) as client:
        assert client.get("/api/v1/users/me").json()["role"] == role
        assert client.get("/api/v1/variables").status_code == (200 if RANK[role] >= RANK["op"] else 403)
