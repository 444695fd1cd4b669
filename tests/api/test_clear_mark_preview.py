"""Clear and mark with the dialog's options (upstream, downstream, past, future): the dry run
lists exactly what the real call then changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.api.server import Api, direct_engine

RUNS = {"pv1": datetime(2031, 1, 1, tzinfo=UTC), "pv2": datetime(2031, 1, 2, tzinfo=UTC)}


@pytest.fixture
def two_runs(api: Api) -> Iterator[None]:
    """Two runs of api_demo whose 'total' failed; removed afterwards (other modules count runs)."""
    from tandem.api.queries.runs import delete_run
    from tandem.db.session import session_scope
    from tandem.orchestration import TiKey
    from tandem.orchestration.actions import set_task_instance_state
    from tandem.scheduler.dag_data import DagDataCache
    from tandem.scheduler.dagruns import trigger_dag_run
    from tandem.state import TaskInstanceState

    with direct_engine(api) as engine:
        with session_scope(engine) as session:
            for run_id, when in RUNS.items():
                trigger_dag_run(session, DagDataCache(), "api_demo", run_id=run_id, logical_date=when)
                set_task_instance_state(session, TiKey("api_demo", run_id, "total", -1), TaskInstanceState.FAILED)
        try:
            yield
        finally:
            with session_scope(engine) as session:
                for run_id in RUNS:
                    delete_run(session, "api_demo", run_id)


def _keys(body: dict[str, list[dict[str, object]]]) -> set[tuple[object, ...]]:
    return {(t["dag_run_id"], t["task_id"], t.get("state")) for t in body["task_instances"]}


def test_clear_preview_with_past_and_downstream(api: Api, two_runs: None) -> None:
    with api.client("user") as user:
        body = {"dry_run": True, "task_ids": ["total"], "dag_run_id": "pv2", "include_past": True,
                "include_downstream": True, "only_failed": False}
        preview = user.post("/api/v1/dags/api_demo/clearTaskInstances", json=body)
        assert preview.status_code == 200, preview.text
        # Downstream report tasks never ran (state none): nothing to clear there.
        assert _keys(preview.json()) == {("pv1", "total", "failed"), ("pv2", "total", "failed")}
        only_future = user.post("/api/v1/dags/api_demo/clearTaskInstances",
                                json={**body, "dag_run_id": "pv1", "include_past": False, "include_future": True})
        assert _keys(only_future.json()) == _keys(preview.json())
        alone = user.post("/api/v1/dags/api_demo/clearTaskInstances", json={**body, "include_past": False})
        assert _keys(alone.json()) == {("pv2", "total", "failed")}
        bad = user.post("/api/v1/dags/api_demo/clearTaskInstances",
                        json={**body, "dag_run_id": None})
        assert bad.status_code == 400 and "need a dag_run_id" in bad.json()["detail"]

        done = user.post("/api/v1/dags/api_demo/clearTaskInstances", json={**body, "dry_run": False})
        assert {(t["dag_run_id"], t["task_id"]) for t in done.json()["task_instances"]} == {
            ("pv1", "total"), ("pv2", "total")}
        state = user.get("/api/v1/dags/api_demo/dagRuns/pv1/taskInstances/total").json()["state"]
        assert state is None


def test_mark_preview_with_downstream_and_future_then_mark(api: Api, two_runs: None) -> None:
    with api.client("user") as user:
        body = {"task_id": "total", "dag_run_id": "pv1", "new_state": "success", "include_downstream": True,
                "include_future": True}
        preview = user.post("/api/v1/dags/api_demo/updateTaskInstancesState", json=body)
        assert preview.status_code == 200, preview.text
        expected = {(run, task) for run in RUNS for task in ("total", "report.hello", "report.bye")}
        assert {(t["dag_run_id"], t["task_id"]) for t in preview.json()["task_instances"]} == expected
        assert user.get("/api/v1/dags/api_demo/dagRuns/pv2/taskInstances/total").json()["state"] == "failed"

        marked = user.post("/api/v1/dags/api_demo/updateTaskInstancesState", json={**body, "dry_run": False})
        assert {(t["dag_run_id"], t["task_id"]) for t in marked.json()["task_instances"]} == expected
        assert user.get("/api/v1/dags/api_demo/dagRuns/pv2/taskInstances/report.bye").json()["state"] == "success"
        missing = user.post("/api/v1/dags/api_demo/updateTaskInstancesState", json={**body, "task_id": "nope"})
        assert missing.status_code == 404 and "task 'nope'" in missing.json()["detail"]


def test_run_mark_preview_changes_nothing(api: Api, two_runs: None) -> None:
    with api.client("user") as user:
        preview = user.patch("/api/v1/dags/api_demo/dagRuns/pv2", json={"state": "success", "dry_run": True})
        assert preview.status_code == 200, preview.text
        tasks = {t["task_id"] for t in preview.json()["task_instances"]}
        assert "total" in tasks and "numbers" in tasks
        assert user.get("/api/v1/dags/api_demo/dagRuns/pv2").json()["state"] == "queued"
