"""Variables, connections, pools, users, import errors, cluster, monitoring, error shape."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from tests.api.server import Api, direct_engine


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_variables_crud(api: Api) -> None:
    key = _name("var")
    with api.client("op") as op:
        created = op.post("/api/v1/variables", json={"key": key, "value": "v1", "description": "d"})
        assert created.json() == {"key": key, "value": "v1", "description": "d"}
        assert op.post("/api/v1/variables", json={"key": key, "value": "v1"}).status_code == 409
        assert op.get(f"/api/v1/variables/{key}").json()["value"] == "v1"
        assert op.patch(f"/api/v1/variables/{key}", json={"value": "v2"}).json()["value"] == "v2"
        assert op.patch(f"/api/v1/variables/{key}", json={"key": "other", "value": "x"}).status_code == 400
        listing = op.get("/api/v1/variables", params={"order_by": "-key"}).json()
        assert key in {v["key"] for v in listing["variables"]}
        assert op.delete(f"/api/v1/variables/{key}").status_code == 204
        assert op.get(f"/api/v1/variables/{key}").status_code == 404


def _keys(value: object) -> set[str]:
    """Every key of every object in a JSON document."""
    if isinstance(value, dict):
        return set(value).union(*map(_keys, value.values()))
    if isinstance(value, list):
        return set().union(*map(_keys, value))
    return set()


def test_connections_never_return_passwords(api: Api) -> None:
    from tandem.models import Connection

    conn_id, secret = _name("conn"), "s3cr3t-" + uuid.uuid4().hex
    with api.client("op") as op:
        created = op.post("/api/v1/connections", json={
            "connection_id": conn_id, "conn_type": "postgres", "host": "db", "port": 5432, "login": "me",
            "password": secret, "schema": "public", "extra": '{"sslmode": "require"}'})
        assert created.status_code == 200, created.text
        responses = [created, op.get(f"/api/v1/connections/{conn_id}"), op.get("/api/v1/connections"),
                     op.patch(f"/api/v1/connections/{conn_id}", json={"host": "db2"})]
        for response in responses:
            # (a key, not the text: connections another test left may hold "password" as a value)
            assert secret not in response.text and "password" not in _keys(response.json())
        one = responses[1].json()
        assert one["has_password"] is True and one["schema"] == "public" and one["extra"] == '{"sslmode": "require"}'
        assert responses[3].json()["host"] == "db2" and responses[3].json()["port"] == 5432
        assert op.post("/api/v1/connections", json={"connection_id": conn_id, "conn_type": "x"}).status_code == 409
        assert op.post("/api/v1/connections", json={"connection_id": _name("c"), "conn_type": "x",
                                                     "port": 70000}).status_code == 400
        with direct_engine(api) as engine, engine.connect() as conn:
            stored = conn.execute(sa.select(Connection.password).where(Connection.conn_id == conn_id)).scalar_one()
        assert stored and secret not in stored  # encrypted at rest
        cleared = op.patch(f"/api/v1/connections/{conn_id}", json={"password": None}).json()
        assert cleared["has_password"] is False
        assert op.delete(f"/api/v1/connections/{conn_id}").status_code == 204
        assert op.get(f"/api/v1/connections/{conn_id}").status_code == 404


def test_pools_crud(api: Api) -> None:
    name = _name("pool")
    with api.client("op") as op:
        created = op.post("/api/v1/pools", json={"name": name, "slots": 4, "description": "x"}).json()
        assert created["slots"] == 4 and created["open_slots"] == 4 and created["occupied_slots"] == 0
        assert op.post("/api/v1/pools", json={"name": name, "slots": 4}).status_code == 409
        assert op.patch(f"/api/v1/pools/{name}", json={"slots": 7}).json()["slots"] == 7
        assert op.patch(f"/api/v1/pools/{name}", json={"slots": -1}).status_code == 400
        assert op.post("/api/v1/pools", json={"name": _name("p"), "slots": 2**40}).status_code == 400
        names = [p["name"] for p in op.get("/api/v1/pools", params={"order_by": "-name"}).json()["pools"]]
        assert names == sorted(names, reverse=True) and "default_pool" in names
        assert op.get("/api/v1/pools", params={"order_by": "slots"}).status_code == 400
        assert op.delete(f"/api/v1/pools/{name}").status_code == 204
        deleted = op.delete("/api/v1/pools/default_pool")
        assert deleted.status_code == 400 and "default_pool" in deleted.json()["detail"]


def test_users_and_tokens_through_the_api(api: Api) -> None:
    name = _name("u")
    with api.client("admin") as admin:
        created = admin.post("/api/v1/users", json={"username": name, "password": "long-Pass-1", "role": "user"}).json()
        assert created["roles"] == [{"name": "user"}] and "password" not in created
        assert admin.post("/api/v1/users", json={"username": name, "password": "long-Pass-2"}).status_code == 400
        assert admin.post("/api/v1/users", json={"username": "bad name!", "password": "long-Pass-3"}).status_code == 400
        assert admin.patch(f"/api/v1/users/{name}", json={"role": "op"}).json()["role"] == "op"
        token = admin.post(f"/api/v1/users/{name}/tokens", json={"expires_in_days": 1}).json()["token"]
        with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get("/api/v1/users/me").json()["username"] == name
            assert client.get("/api/v1/variables").status_code == 200
        assert {r["name"] for r in admin.get("/api/v1/roles").json()["roles"]} == {"viewer", "user", "op", "admin"}
        assert admin.delete(f"/api/v1/users/{name}").status_code == 204
        with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get("/api/v1/users/me").status_code == 401
        assert admin.delete(f"/api/v1/users/{name}").status_code == 404


def test_import_errors(admin: httpx.Client) -> None:
    body = admin.get("/api/v1/importErrors").json()
    assert body["total_entries"] == 1
    error = body["import_errors"][0]
    assert error["filename"].endswith("broken.py") and "nonexistent_module_for_tandem_tests" in error["stack_trace"]
    assert admin.get(f"/api/v1/importErrors/{error['import_error_id']}").json() == error
    assert admin.get("/api/v1/importErrors/-5").status_code == 400


def test_cluster_nodes_show_this_api_server(admin: httpx.Client) -> None:
    nodes = admin.get("/api/v1/cluster/nodes").json()["nodes"]
    mine = [n for n in nodes if n["role"] == "api-server" and n["alive"]]
    assert mine and mine[0]["heartbeat_age_seconds"] < 30
    assert admin.get("/api/v1/cluster/nodes", params={"role": "scheduler"}).json()["total_entries"] == 0


def test_health_version_metrics_and_openapi(api: Api, admin: httpx.Client) -> None:
    health = httpx.get(f"{api.url}/health")
    assert health.status_code == 200
    assert health.json()["metadatabase"]["status"] == "healthy"
    assert health.json()["scheduler"] == {"status": "unhealthy", "latest_scheduler_heartbeat": None}
    assert httpx.get(f"{api.url}/api/v1/health").json()["metadatabase"]["status"] == "healthy"
    assert admin.get("/api/v1/version").json()["version"]
    assert httpx.get(f"{api.url}/metrics").status_code == 401  # security.metrics_require_login
    metrics = admin.get("/metrics").text
    for name in ("tandem_task_instances{state=\"success\"}", "tandem_dag_runs{state=", "tandem_pool_slots{",
                 "tandem_live_nodes{role=\"api-server\"}", "tandem_metadatabase_up 1.0",
                 "tandem_api_requests_total{", "tandem_api_request_duration_seconds_bucket{"):
        assert name in metrics, name
    assert 'tandem_api_requests_total{method="GET",route="/api/v1/version",status="200"}' in metrics
    schema = httpx.get(f"{api.url}/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.") and "/api/v1/dags/{dag_id}/dagRuns" in schema["paths"]


def test_errors_are_problem_json(admin: httpx.Client) -> None:
    for response, status in ((admin.get("/api/v1/dags/nope"), 404), (admin.get("/api/v1/nothing-here"), 404),
                             (admin.put("/api/v1/dags/api_demo", json={}), 405),
                             (admin.post("/api/v1/pools", content=b"[1,", headers={"Content-Type": "application/json"}), 400),
                             (admin.get("/api/v1/dags", params={"limit": 10**30}), 400),
                             (admin.get("/api/v1/dags/api_demo/dagRuns/seeded/taskInstances/x/99999999999999"), 400)):
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert set(response.json()) == {"type", "title", "status", "detail"}
        assert response.json()["status"] == status and response.json()["detail"]


def test_nul_bytes_and_long_values_are_400_not_500(api: Api) -> None:
    with api.client("op") as op:
        long_key = op.post("/api/v1/variables", json={"key": "k" * 300, "value": "v"})
        assert long_key.status_code == 400
        nul = op.post("/api/v1/variables", json={"key": _name("nul"), "value": "a\u0000b"})
        assert nul.status_code in (200, 400), nul.text
        pool = op.post("/api/v1/pools", json={"name": "p\u0000x", "slots": 1})
        assert pool.status_code in (200, 400), pool.text
