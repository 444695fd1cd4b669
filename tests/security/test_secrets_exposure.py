"""Secrets shown to read-only roles (Airflow CVE-2023-45348, CVE-2024-45034, CVE-2023-22887, CVE-2021-45229).

Connection passwords, sensitive extra keys and sensitive variables are ``***`` in task logs,
rendered fields, XComs and failure reasons, for every role; node details hide key hashes and the
DB URL from non-admins; secret-bearing answers are not cached.
"""

from __future__ import annotations

import json
import uuid

import httpx

from tests.api.server import ROLES, Api, direct_engine

SECRET = f"s3cr3t-{uuid.uuid4().hex}"
EXTRA_SECRET = f"extra-{uuid.uuid4().hex}"


def _plant(api: Api, admin: httpx.Client) -> str:
    """A sensitive variable and connection, and a task instance whose log, fields, XCom and error show them."""
    from tandem.db.session import session_scope
    from tandem.models import TaskInstance, XCom, utcnow
    from tandem.orchestration import TiKey
    from tandem.orchestration.actions import set_task_instance_state
    from tandem.runner.logs import try_log_path
    from tandem.scheduler.dag_data import DagDataCache
    from tandem.scheduler.dagruns import trigger_dag_run
    from tandem.state import TaskInstanceState

    suffix = uuid.uuid4().hex[:8]
    admin.post("/api/v1/variables", json={"key": f"db_password_{suffix}", "value": SECRET}).raise_for_status()
    admin.post("/api/v1/connections", json={
        "connection_id": f"svc_{suffix}", "conn_type": "http", "password": f"pw-{SECRET}",
        "extra": json.dumps({"api_key": EXTRA_SECRET, "region": "eu"})}).raise_for_status()
    run_id = f"leak_{uuid.uuid4().hex[:8]}"
    with direct_engine(api) as engine, session_scope(engine) as session:
        trigger_dag_run(session, DagDataCache(), "api_demo", run_id=run_id, triggered_by="test")
        set_task_instance_state(session, TiKey("api_demo", run_id, "numbers", -1), TaskInstanceState.FAILED)
        ti = session.get(TaskInstance, ("api_demo", run_id, "numbers", -1))
        assert ti is not None
        ti.rendered_fields = {"bash_command": f"curl -u me:{SECRET} https://x", "env": {"TOKEN": EXTRA_SECRET}}
        ti.failure_reason = f"RuntimeError: login with pw-{SECRET} refused"
        session.add(XCom(dag_id="api_demo", run_id=run_id, task_id="numbers", map_index=-1, key="return_value",
                         value={"note": f"got {EXTRA_SECRET}"}, timestamp=utcnow()))
    from tandem.config import get_settings

    path = try_log_path(get_settings().log_folder, TiKey("api_demo", run_id, "numbers", -1), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"connecting with {SECRET}\nheader x-api-key: {EXTRA_SECRET}\n")
    return run_id


def test_secrets_are_masked_for_every_role(api: Api, admin: httpx.Client) -> None:
    run_id = _plant(api, admin)
    base = f"/api/v1/dags/api_demo/dagRuns/{run_id}/taskInstances/numbers"
    for role in ROLES:
        with api.client(role) as client:
            answers = [client.get(base), client.get(f"{base}/logs/1"), client.get(f"{base}/xcomEntries/return_value"),
                       client.get(f"/api/v1/dags/api_demo/dagRuns/{run_id}/taskInstances")]
            for response in answers:
                assert response.status_code == 200, response.text
                assert SECRET not in response.text and EXTRA_SECRET not in response.text, (role, response.text)
                assert "***" in response.text
            assert response.headers["cache-control"] == "no-store"


def test_secrets_are_masked_in_the_task_page(api: Api, admin: httpx.Client) -> None:
    from tests.api.server import PASSWORD
    from tests.api.test_auth import login

    run_id = _plant(api, admin)
    with login(api, "viewer", PASSWORD.format(role="viewer")) as client:
        # The task page, and the grid's details panel data
        for path in (f"/dags/api_demo/runs/{run_id}/tasks/numbers", f"/dags/api_demo/runs/{run_id}/tasks/numbers/details"):
            page = client.get(path)
            assert page.status_code == 200 and "***" in page.text, path
            assert SECRET not in page.text and EXTRA_SECRET not in page.text, path
            assert page.headers["cache-control"] == "no-store"


def test_connection_extra_secrets_never_come_back(api: Api, admin: httpx.Client) -> None:
    conn_id = f"extra_{uuid.uuid4().hex[:8]}"
    with api.client("op") as op:
        op.post("/api/v1/connections", json={"connection_id": conn_id, "conn_type": "http",
                                             "extra": json.dumps({"token": EXTRA_SECRET, "region": "eu"})})
        shown = op.get(f"/api/v1/connections/{conn_id}").json()
        assert json.loads(shown["extra"]) == {"token": "***", "region": "eu"}
        # Sending back what was read keeps the secret; a new value replaces it.
        op.patch(f"/api/v1/connections/{conn_id}", json={"extra": json.dumps({"token": "***", "region": "us"})})
        from tandem.crypto import decrypt
        from tandem.db.session import session_scope
        from tandem.models import Connection

        with direct_engine(api) as engine, session_scope(engine) as session:
            row = session.get(Connection, conn_id)
            assert row is not None and json.loads(decrypt(row.extra or "")) == {"token": EXTRA_SECRET, "region": "us"}
        assert EXTRA_SECRET not in op.get("/api/v1/connections").text


def test_node_details_show_viewers_only_agreement(api: Api, admin: httpx.Client) -> None:
    with api.client("viewer") as viewer:
        for node in viewer.get("/api/v1/cluster/nodes").json()["nodes"]:
            assert node["fingerprint"] == "" and node["details"] == {}
            assert isinstance(node["divergent"], bool)
    assert any(n["fingerprint"] for n in admin.get("/api/v1/cluster/nodes").json()["nodes"])
