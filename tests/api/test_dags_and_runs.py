"""DAGs and DAG runs over real HTTP."""

from __future__ import annotations

import uuid

import httpx

from tests.api.server import Api


def _run_id() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


def test_list_dags_filters_and_pagination(admin: httpx.Client) -> None:
    body = admin.get("/api/v1/dags").json()
    assert body["total_entries"] == 1
    dag = body["dags"][0]
    assert dag["dag_id"] == "api_demo" and {t["name"] for t in dag["tags"]} == {"demo", "api"}
    assert dag["file_token"] and dag["timetable_description"] is not None
    assert admin.get("/api/v1/dags", params={"dag_id_pattern": "demo"}).json()["total_entries"] == 1
    assert admin.get("/api/v1/dags", params={"dag_id_pattern": "zzz"}).json()["total_entries"] == 0
    assert admin.get("/api/v1/dags", params={"dag_id_pattern": "%"}).json()["total_entries"] == 0
    assert admin.get("/api/v1/dags", params={"tags": ["api"]}).json()["total_entries"] == 1
    assert admin.get("/api/v1/dags", params={"tags": ["other"]}).json()["total_entries"] == 0
    assert admin.get("/api/v1/dags", params={"paused": "true"}).json()["total_entries"] == 0
    page = admin.get("/api/v1/dags", params={"limit": 1, "offset": 1}).json()
    assert page == {"dags": [], "total_entries": 1}
    assert admin.get("/api/v1/dags", params={"order_by": "-dag_id"}).status_code == 200
    bad = admin.get("/api/v1/dags", params={"order_by": "password"})
    assert bad.status_code == 400 and "Ordering with 'password'" in bad.json()["detail"]
    assert admin.get("/api/v1/dags", params={"limit": 0}).status_code == 400


def test_get_dag_details_tasks_and_source(admin: httpx.Client) -> None:
    dag = admin.get("/api/v1/dags/api_demo").json()
    details = admin.get("/api/v1/dags/api_demo/details").json()
    assert details["params"]["n"]["default"] == 3 and details["doc_md"].startswith("Docs with")
    tasks = admin.get("/api/v1/dags/api_demo/tasks").json()
    ids = {t["task_id"] for t in tasks["tasks"]}
    assert ids == {"numbers", "double", "total", "report.hello", "report.bye"}
    assert admin.get("/api/v1/dags/api_demo/tasks/double").json()["is_mapped"] is True
    assert admin.get("/api/v1/dags/api_demo/tasks/nope").status_code == 404
    source = admin.get(f"/api/v1/dagSources/{dag['file_token']}").json()
    assert '"api_demo"' in source["content"]


def test_pause_and_unpause(api: Api) -> None:
    with api.client("user") as user:
        assert user.patch("/api/v1/dags/api_demo", json={"is_paused": True}).json()["is_paused"] is True
        assert user.get("/api/v1/dags", params={"paused": "true"}).json()["total_entries"] == 1
        assert user.patch("/api/v1/dags/api_demo", json={"is_paused": False}).json()["is_paused"] is False
        assert user.patch("/api/v1/dags/api_demo", json={"is_paused": "maybe"}).status_code == 400


def test_trigger_validates_conf_against_params(api: Api) -> None:
    with api.client("user") as user:
        bad = user.post("/api/v1/dags/api_demo/dagRuns", json={"conf": {"n": 99}})
        assert bad.status_code == 400
        assert "'n'" in bad.json()["detail"] and "maximum" in bad.json()["detail"]
        run_id = _run_id()
        ok = user.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": run_id, "conf": {"n": 2}})
        assert ok.status_code == 200, ok.text
        run = ok.json()
        assert run["dag_run_id"] == run_id and run["state"] == "queued" and run["conf"] == {"n": 2}
        assert run["external_trigger"] is True and run["triggered_by"] == "rest_api"
        again = user.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": run_id})
        assert again.status_code == 409 and again.json()["title"] == "AlreadyExists"
        assert user.post("/api/v1/dags/missing/dagRuns", json={}).status_code == 404
        naive = user.post("/api/v1/dags/api_demo/dagRuns", json={"logical_date": "2024-01-01T00:00:00"})
        assert naive.status_code == 400 and "time zone" in naive.json()["detail"]
        dated = user.post("/api/v1/dags/api_demo/dagRuns",
                          json={"dag_run_id": _run_id(), "execution_date": "2023-05-01T00:00:00+00:00"})
        assert dated.json()["logical_date"].startswith("2023-05-01")
        assert user.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": "a/b"}).status_code == 400
        broken = user.post("/api/v1/dags/api_demo/dagRuns", content=b"{not json",
                           headers={"Content-Type": "application/json"})
        assert broken.status_code == 400 and broken.json()["status"] == 400


def test_list_and_get_runs(admin: httpx.Client) -> None:
    runs = admin.get("/api/v1/dags/api_demo/dagRuns").json()
    assert runs["total_entries"] >= 1 and any(r["dag_run_id"] == "seeded" for r in runs["dag_runs"])
    every = admin.get("/api/v1/dags/~/dagRuns", params={"limit": 1}).json()
    assert len(every["dag_runs"]) == 1 and every["total_entries"] == runs["total_entries"]
    assert admin.get("/api/v1/dags/api_demo/dagRuns", params={"state": ["nope"]}).json()["total_entries"] == 0
    assert admin.get("/api/v1/dags/api_demo/dagRuns/seeded").json()["conf"] == {"n": 2}
    assert admin.get("/api/v1/dags/api_demo/dagRuns/nope").status_code == 404
    assert admin.get("/api/v1/dags/api_demo/dagRuns", params={"order_by": "-start_date"}).status_code == 200
    assert admin.get("/api/v1/dags/api_demo/dagRuns", params={"start_date_gte": "not a date"}).status_code == 400


def test_mark_clear_and_delete_a_run(api: Api) -> None:
    with api.client("user") as user:
        run_id = _run_id()
        user.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": run_id}).raise_for_status()
        base = f"/api/v1/dags/api_demo/dagRuns/{run_id}"
        assert user.patch(base, json={"state": "success"}).json()["state"] == "success"
        tis = user.get(base + "/taskInstances").json()["task_instances"]
        assert tis and all(ti["state"] == "success" for ti in tis)
        dry = user.post(base + "/clear", json={"dry_run": True})
        assert dry.status_code == 200 and dry.json()["total_entries"] == len(tis)
        assert user.get(base).json()["state"] == "success"
        cleared = user.post(base + "/clear", json={"dry_run": False}).json()
        assert cleared["state"] == "queued"
        assert user.patch(base, json={"state": "failed"}).json()["state"] == "failed"
        assert user.patch(base, json={"state": "running"}).status_code == 400
        assert user.delete(base).status_code == 204
        assert user.get(base).status_code == 404
        assert user.delete(base).status_code == 404
