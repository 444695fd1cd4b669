"""``/api/v1/backfills`` over real HTTP: dry run, create, progress, pause, cancel, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import Api, direct_engine

DAILY = '''
from datetime import datetime
from tandem import DAG
from tandem.operators import EmptyOperator

with DAG("bf_daily", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    EmptyOperator(task_id="only")
'''
BODY = {"dag_id": "bf_daily", "from_date": "2024-02-01T00:00:00Z", "to_date": "2024-02-05T00:00:00Z",
        "max_active_runs": 2}


@pytest.fixture(scope="module")
def daily(api: Api) -> Iterator[str]:
    """A scheduled DAG of this module's own, gone again afterwards (other modules count DAGs)."""
    from tandem.config import get_settings
    from tandem.dag_processing.processor import parse_all
    from tandem.db.session import session_scope
    from tandem.models.queries import delete_dag

    path = Path(api.env["TANDEM__CORE__DAGS_FOLDER"]) / "bf_daily.py"
    path.write_text(DAILY)
    with direct_engine(api) as engine:
        parse_all(get_settings(), engine)
    try:
        yield "bf_daily"
    finally:
        path.unlink()
        with direct_engine(api) as engine, session_scope(engine) as session:
            delete_dag(session, "bf_daily")


def test_dry_run_create_progress_pause_cancel(api: Api, daily: str) -> None:
    with api.client("op") as op, api.client("viewer") as viewer:
        # Given a dry run: the dates it would run, nothing created
        preview = op.post("/api/v1/backfills", json={**BODY, "dry_run": True})
        assert preview.status_code == 200, preview.text
        dates = [b["logical_date"][:10] for b in preview.json()["backfills"]]
        assert dates == ["2024-02-01", "2024-02-02", "2024-02-03", "2024-02-04", "2024-02-05"]
        assert op.post("/api/v1/backfills/dry_run", json={**BODY, "run_backwards": True}).json()[
            "backfills"][0]["logical_date"][:10] == "2024-02-05"
        assert viewer.get("/api/v1/backfills", params={"dag_id": daily}).json()["total_entries"] == 0

        # When it is created
        created = op.post("/api/v1/backfills", json=BODY)
        assert created.status_code == 200, created.text
        backfill = created.json()
        assert backfill["state"] == "running" and backfill["triggering_user_name"] == "op"
        assert backfill["progress"] == {"queued": 5, "running": 0, "success": 0, "failed": 0, "total": 5,
                                        "skipped": 0}
        runs = viewer.get(f"/api/v1/dags/{daily}/dagRuns", params={"run_type": "backfill"}).json()
        assert runs["total_entries"] == 5
        # A second one for the same DAG is a conflict
        again = op.post("/api/v1/backfills", json=BODY)
        assert again.status_code == 409 and "active backfill" in again.json()["detail"]

        # Then it can be paused, unpaused and cancelled (its queued runs fail)
        url = f"/api/v1/backfills/{backfill['id']}"
        assert op.put(url + "/pause").json()["state"] == "paused"
        assert viewer.get(url).json()["is_paused"] is True
        assert op.put(url + "/unpause").json()["state"] == "running"
        cancelled = op.put(url + "/cancel").json()
        assert cancelled["state"] == "cancelled" and cancelled["progress"]["failed"] == 5
        assert op.put(url + "/cancel").status_code == 409
        # Every write is in the audit log
        audit = httpx.get(f"{api.url}/api/v1/auditLog", headers={"Authorization": f"Bearer {api.tokens['admin']}"})
        assert any("/backfills" in e["action"] or "/backfills" in str(e) for e in audit.json()["entries"])


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"from_date": "2024-02-05T00:00:00Z", "to_date": "2024-02-01T00:00:00Z"}, 400, "must not be after"),
    ({"from_date": "2024-02-01T00:00:00"}, 400, "from_date: Value error, needs a time zone"),
    ({"from_date": "not a date"}, 400, "from_date"),
    ({"from_date": "2999-01-01T00:00:00Z", "to_date": "2999-01-02T00:00:00Z"}, 400, "in the future"),
    ({"max_active_runs": 0}, 400, "max_active_runs"),
    ({"reprocess_behavior": "sometimes"}, 400, "reprocess_behavior"),
    ({"dag_id": "api_demo"}, 400, "non-periodic schedule"),
    ({"dag_id": "nope"}, 404, "not found"),
])
def test_bad_requests_are_4xx_with_a_message(api: Api, daily: str, change: dict[str, object], status: int,
                                             message: str) -> None:
    with api.client("op") as op:
        response = op.post("/api/v1/backfills", json={**BODY, **change, "dry_run": True})
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_users_below_op_cannot_backfill(api: Api, daily: str) -> None:
    with api.client("user") as user:
        response = user.post("/api/v1/backfills", json=BODY)
    assert response.status_code == 403
    assert "op role" in response.json()["detail"]
