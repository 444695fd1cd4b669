"""Inputs that once made 500s or huge pages: overflowing dates, huge offsets, huge payloads (all 4xx)."""

from __future__ import annotations

import httpx

from tests.api.server import Api

RUNS = "/api/v1/dags/api_demo/dagRuns"
LOG = "/api/v1/dags/api_demo/dagRuns/seeded/taskInstances/numbers/logs/1"


def test_overflowing_dates_are_400(api: Api, admin: httpx.Client) -> None:
    for value in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999-00:01"):
        for name in ("logical_date_gte", "logical_date_lte", "start_date_gte", "end_date_lte", "execution_date_gte"):
            response = admin.get(RUNS, params={name: value})
            assert response.status_code == 400, f"{name}={value}: {response.status_code} {response.text}"
            assert response.json()["detail"]


def test_huge_log_offsets_are_4xx_or_empty(admin: httpx.Client) -> None:
    for offset in (2**40, 2**40 + 1, 2**62, 2**64, 10**30, -1):
        response = admin.get(LOG, params={"offset": offset})
        assert 200 <= response.status_code < 500, f"{offset}: {response.status_code} {response.text}"
        if response.status_code == 200:
            assert response.json()["content"] == ""


def test_a_huge_conf_is_refused(admin: httpx.Client) -> None:
    response = admin.post(RUNS, json={"dag_run_id": "huge_conf", "conf": {"x": "a" * 200_000}})
    assert response.status_code == 400 and "max_conf_bytes" in response.json()["detail"]


def test_a_huge_variable_is_refused(admin: httpx.Client) -> None:
    response = admin.post("/api/v1/variables", json={"key": "huge_var", "value": "a" * 2_000_000})
    assert response.status_code == 400 and "max_variable_bytes" in response.json()["detail"]


def test_long_values_are_cut_in_pages_with_show_all(api: Api, admin: httpx.Client) -> None:
    from tests.api.server import PASSWORD
    from tests.api.test_auth import login

    admin.post(RUNS, json={"dag_run_id": "long_conf", "conf": {"x": "b" * 30_000}}).raise_for_status()
    with login(api, "admin", PASSWORD.format(role="admin")) as client:
        page = client.get("/dags/api_demo/runs").text
        assert "b" * 30_000 not in page and "show all" in page
        assert "b" * 30_000 in client.get("/dags/api_demo/runs", params={"show_all": "1"}).text
