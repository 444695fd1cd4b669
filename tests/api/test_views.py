"""The history views, asset pages, admin edit/search pages and audit filters, read over HTTP."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.api.server import Api, direct_engine

SECRET = "conn-secret-" + uuid.uuid4().hex[:8]


def _seed_run(api: Api, run_id: str) -> None:
    """A run whose tasks ran for known times, XComs holding secrets, and an asset event it triggered."""
    from tandem.db.session import session_scope
    from tandem.models import AssetEvent, AssetEventDagRun, TaskInstance, XCom, utcnow
    from tandem.scheduler.dag_data import DagDataCache
    from tandem.scheduler.dagruns import trigger_dag_run

    now = utcnow()
    with direct_engine(api) as engine, session_scope(engine) as session:
        trigger_dag_run(session, DagDataCache(), "api_demo", run_id=run_id, conf={}, triggered_by="test")
        for i, task_id in enumerate(("numbers", "total")):
            session.execute(sa.update(TaskInstance).where(
                TaskInstance.dag_id == "api_demo", TaskInstance.run_id == run_id, TaskInstance.task_id == task_id,
            ).values(start_date=now, end_date=now + timedelta(seconds=5 + i), duration=5.0 + i))
        session.add_all([
            XCom(dag_id="api_demo", run_id=run_id, task_id="numbers", map_index=-1, key="return_value",
                 value={"dsn": f"postgres://me:{SECRET}@db/x", "rows": 3}, timestamp=now),
            XCom(dag_id="api_demo", run_id=run_id, task_id="total", map_index=-1, key="api_token",
                 value="plain-looking-value", timestamp=now),
            XCom(dag_id="api_demo", run_id=run_id, task_id="double", map_index=1, key="long",
                 value="ab" * 60_000 + "THE-END", timestamp=now),
        ])
        event = AssetEvent(uri=f"s3://views/{run_id}", extra={"rows": 3}, source_dag_id="api_demo",
                           source_run_id="seeded", source_task_id="numbers", source_map_index=-1, timestamp=now)
        session.add(event)
        session.flush()
        session.add(AssetEventDagRun(dag_id="api_demo", run_id=run_id, event_id=event.id))


def test_xcoms_durations_calendar_and_assets(api: Api) -> None:
    run_id = "views_" + uuid.uuid4().hex[:8]
    with api.client("op") as op:
        assert op.post("/api/v1/connections", json={"connection_id": "views_" + run_id, "conn_type": "postgres",
                                                    "password": SECRET}).status_code == 200
    _seed_run(api, run_id)
    with api.client("viewer") as viewer:
        xcoms = viewer.get("/dags/api_demo/xcoms", params={"run_id": run_id})
        assert xcoms.status_code == 200
        text = html.unescape(xcoms.text)
        assert SECRET not in text and "plain-looking-value" not in text
        assert "postgres://me:***@db/x" in text
        assert "show all (120007 characters)" in text and "THE-END" not in text
        assert "THE-END" in viewer.get("/dags/api_demo/xcoms", params={"run_id": run_id, "show_all": 1}).text
        assert viewer.get("/dags/api_demo/xcoms", params={"run_id": "nope"}).status_code == 404

        charts = viewer.get("/dags/api_demo/durations", params={"runs": 50}).text
        duration_svg = charts.split('id="task-duration"')[1].split("</svg>")[0]
        assert set(re.findall(r'data-task="([^"]+)"', duration_svg)) >= {"numbers", "total"}
        assert len(re.findall(r'class="legend-label"', duration_svg)) == len(re.findall("<polyline", duration_svg))
        assert 'id="landing-time"' in charts

        calendar = viewer.get("/dags/api_demo/calendar").text
        today = datetime.now(UTC).date().isoformat()
        assert re.search(rf'data-date="{today}" data-outcome="(queued|running|mixed|success|failed)"', calendar)
        assert viewer.get("/dags/api_demo/calendar", params={"year": 99999}).status_code in (400, 422)

        assets = viewer.get("/assets").text
        assert f"s3://views/{run_id}" in assets
        page = viewer.get("/assets/detail", params={"uri": f"s3://views/{run_id}"}).text
        assert "/dags/api_demo/graph?run_id=seeded" in page
        assert f"/dags/api_demo/graph?run_id={run_id}" in page
        assert viewer.get("/assets/detail", params={"uri": "s3://nothing"}).status_code == 404

        listed = viewer.get("/api/v1/assets", params={"uri_pattern": run_id}).json()
        assert listed["total_entries"] == 1 and listed["assets"][0]["producing_dags"] == ["api_demo"]
        events = viewer.get("/api/v1/assets/events", params={"uri": f"s3://views/{run_id}"}).json()
        assert events["asset_events"][0]["source_run_id"] == "seeded"
        assert events["asset_events"][0]["created_dagruns"][0]["dag_run_id"] == run_id


def test_admin_pages_search_and_edit_forms_hold_no_secret(api: Api) -> None:
    key, conn_id = "views_token_" + uuid.uuid4().hex[:6], "views_edit_" + uuid.uuid4().hex[:6]
    with api.client("op") as op, api.client("viewer") as viewer, api.client("admin") as admin:
        op.post("/api/v1/variables", json={"key": key, "value": "sekrit-value", "description": "findme"})
        op.post("/api/v1/connections", json={"connection_id": conn_id, "conn_type": "http", "password": "pw-x-123",
                                             "extra": '{"region": "eu", "client_secret": "cs-123456"}'})
        found = op.get("/variables", params={"search": "FINDME"}).text
        assert key in found and "views_edit_" not in found
        edit_variable = op.get("/variables/edit", params={"key": key})
        assert edit_variable.status_code == 200 and "sekrit-value" not in edit_variable.text
        conns = html.unescape(op.get("/connections", params={"search": conn_id}).text)
        assert '"region": "eu"' in conns and "cs-123456" not in conns
        edit_connection = op.get("/connections/edit", params={"conn_id": conn_id})
        assert edit_connection.status_code == 200
        edit = html.unescape(edit_connection.text)
        assert "pw-x-123" not in edit and "cs-123456" not in edit and '"client_secret": "***"' in edit
        assert op.get("/pools/edit", params={"name": "default_pool"}).status_code == 200
        assert op.get("/users/edit", params={"username": "viewer"}).status_code == 403
        assert "viewer@example.com" in admin.get("/users/edit", params={"username": "viewer"}).text
        assert viewer.get("/variables/edit", params={"key": key}).status_code == 403
        assert op.get("/variables/edit", params={"key": "missing-" + key}).status_code == 404


def test_audit_filters(api: Api) -> None:
    key = "views_audit_" + uuid.uuid4().hex[:6]
    with api.client("op") as op, api.client("admin") as admin:
        op.post("/api/v1/variables", json={"key": key, "value": "x"})
        op.patch(f"/api/v1/variables/{key}", json={"value": "y"})
        op.patch("/api/v1/dags/api_demo", json={"is_paused": False})
        by_action = admin.get("/audit-log", params={"username": "op", "action": key}).text
        assert f"PATCH /api/v1/variables/{key}" in by_action and "/api/v1/dags/api_demo" not in by_action
        by_dag = admin.get("/audit-log", params={"dag_id": "api_demo", "username": "op"}).text
        assert "PATCH /api/v1/dags/api_demo" in by_dag and key not in by_dag
        today = datetime.now(UTC).date()
        none = admin.get("/audit-log", params={"until": (today - timedelta(days=400)).isoformat()}).text
        assert "matches these filters" in none
        bad = admin.get("/audit-log", params={"since": "yesterday"}).text
        assert "From must be a date" in bad
        api_level = admin.get("/api/v1/auditLog", params={"dag_id": "api_demo", "since": today.isoformat()}).json()
        assert api_level["total_entries"] >= 1
        assert op.get("/audit-log").status_code == 403
