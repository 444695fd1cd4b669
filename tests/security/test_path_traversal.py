"""Path traversal (Airflow CVE-2021-35936 logs, CVE-2023-39441): ids cannot leave the log folder,
and a run id with ``..`` or ``/`` cannot be created."""

from __future__ import annotations

import httpx

from tests.api.server import Api


def test_log_paths_cannot_escape(admin: httpx.Client) -> None:
    for run_id in ("..%2F..%2F..%2Fetc", "..", "%2E%2E"):
        response = admin.get(f"/api/v1/dags/api_demo/dagRuns/{run_id}/taskInstances/numbers/logs/1")
        assert response.status_code in (400, 404), response.text
        assert "root:" not in response.text


def test_run_ids_with_path_characters_are_refused(api: Api, admin: httpx.Client) -> None:
    for run_id in ("../../etc/passwd", "a/b", "..\\x", "x\x00y"):
        response = admin.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": run_id})
        assert response.status_code == 400, (run_id, response.text)
