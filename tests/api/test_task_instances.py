"""Task instances, tries, XComs and logs over real HTTP."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from tests.api.server import Api, direct_engine

TI = "/api/v1/dags/api_demo/dagRuns/seeded/taskInstances/numbers"


def test_list_and_get_task_instances(admin: httpx.Client) -> None:
    body = admin.get("/api/v1/dags/api_demo/dagRuns/seeded/taskInstances").json()
    assert body["total_entries"] == 5
    ti = admin.get(TI).json()
    assert ti["state"] == "success" and ti["map_index"] == -1 and ti["dag_run_id"] == "seeded"
    every = admin.get("/api/v1/dags/~/dagRuns/~/taskInstances", params={"state": ["success"]}).json()
    assert any(t["task_id"] == "numbers" for t in every["task_instances"])
    assert admin.get(TI.replace("numbers", "nope")).status_code == 404
    assert admin.get("/api/v1/dags/api_demo/dagRuns/seeded/taskInstances/double/abc").status_code == 400
    assert admin.get("/api/v1/dags/api_demo/dagRuns/seeded/taskInstances/double/listMapped").json() == {
        "task_instances": [], "total_entries": 0}


def test_tries_and_xcoms(admin: httpx.Client) -> None:
    tries = admin.get(TI + "/tries").json()
    assert tries["total_entries"] == 1 and tries["task_instances"][0]["hostname"] == "seed-host"
    assert admin.get(TI + "/tries/1").json()["state"] == "success"
    assert admin.get(TI + "/tries/2").status_code == 404
    xcoms = admin.get(TI + "/xcomEntries").json()
    assert [x["key"] for x in xcoms["xcom_entries"]] == ["return_value"]
    assert admin.get(TI + "/xcomEntries/return_value").json()["value"] == [0, 1]
    assert admin.get(TI + "/xcomEntries/other").status_code == 404


def test_log_json_text_and_tailing(admin: httpx.Client) -> None:
    first = admin.get(TI + "/logs/1").json()
    assert first["content"].startswith("line one") and first["end_of_log"] is True
    rest = admin.get(TI + "/logs/1", params={"token": first["continuation_token"]}).json()
    assert rest["content"] == ""
    tail = admin.get(TI + "/logs/1", params={"offset": 9}).json()
    assert tail["content"].startswith("<b>not bold</b>")
    text = admin.get(TI + "/logs/1", headers={"Accept": "text/plain"})
    assert text.headers["content-type"].startswith("text/plain") and "line three" in text.text
    assert "X-Continuation-Token" in text.headers
    assert admin.get(TI + "/logs/1", params={"token": "forged"}).status_code == 400
    assert admin.get(TI + "/logs/7").status_code == 404
    assert admin.get(TI + "/logs/0").status_code == 400


def test_log_reads_cannot_escape_the_log_folder(api: Api, admin: httpx.Client) -> None:
    from tandem.models import TaskInstance

    evil = "../../../../../../etc"
    run_id = f"t_{uuid.uuid4().hex[:10]}"
    admin.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": run_id}).raise_for_status()
    with direct_engine(api) as engine, engine.begin() as conn:
        conn.execute(sa.insert(TaskInstance), [{
            "dag_id": "api_demo", "run_id": run_id, "task_id": evil, "map_index": -1, "state": "none",
            "try_number": 1, "max_tries": 0, "operator": "x", "pool": "default_pool", "pool_slots": 1,
            "queue": "default", "priority_weight": 1, "hostname": ""}])
    path = f"/api/v1/dags/api_demo/dagRuns/{run_id}/taskInstances/" + evil.replace("/", "%2F") + "/logs/1"
    response = admin.get(path)
    assert response.status_code in (400, 404), response.text
    assert "root:" not in response.text
    encoded = admin.get("/api/v1/dags/api_demo/dagRuns/seeded/taskInstances/..%2F..%2Fpasswd/logs/1")
    assert encoded.status_code == 404


def test_set_state_and_clear_with_downstream(api: Api) -> None:
    run_id = f"t_{uuid.uuid4().hex[:10]}"
    with api.client("user") as user:
        user.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": run_id}).raise_for_status()
        base = f"/api/v1/dags/api_demo/dagRuns/{run_id}/taskInstances"
        ref = user.patch(base + "/numbers", json={"new_state": "failed"}).json()
        assert ref["task_id"] == "numbers" and ref["dag_run_id"] == run_id
        assert user.get(base + "/numbers").json()["state"] == "failed"
        dry_ref = user.patch(base + "/total", json={"new_state": "success", "dry_run": True}).json()
        assert dry_ref["task_id"] == "total" and user.get(base + "/total").json()["state"] is None
        assert user.patch(base + "/numbers", json={"new_state": "running"}).status_code == 400
        user.patch(base + "/report.hello", json={"new_state": "success"}).raise_for_status()
        dry = user.post("/api/v1/dags/api_demo/clearTaskInstances", json={
            "dry_run": True, "task_ids": ["numbers"], "dag_run_id": run_id, "include_downstream": True,
            "only_failed": False}).json()
        assert {t["task_id"] for t in dry["task_instances"]} == {"numbers", "report.hello"}
        up = user.post("/api/v1/dags/api_demo/clearTaskInstances", json={
            "dry_run": True, "task_ids": ["report.hello"], "dag_run_id": run_id, "include_upstream": True,
            "only_failed": False}).json()
        assert {t["task_id"] for t in up["task_instances"]} == {"numbers", "report.hello"}
        done = user.post("/api/v1/dags/api_demo/clearTaskInstances", json={
            "dry_run": False, "task_ids": ["numbers"], "dag_run_id": run_id, "only_failed": True}).json()
        assert [t["task_id"] for t in done["task_instances"]] == ["numbers"]
        assert user.get(base + "/numbers").json()["state"] is None
        assert user.get(base + "/report.hello").json()["state"] == "success"
        assert user.post("/api/v1/dags/api_demo/clearTaskInstances",
                         json={"dag_run_id": "nope"}).status_code == 404
        assert user.post("/api/v1/dags/api_demo/clearTaskInstances",
                         json={"only_running": True}).status_code == 400
