"""The audit log: writes through the API, the UI and the CLI are recorded; only admins read it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx

from tests.api.server import PASSWORD, Api
from tests.api.test_auth import csrf_of, login


def test_api_ui_and_cli_writes_are_recorded(api: Api, admin: httpx.Client) -> None:
    key = f"audited_{uuid.uuid4().hex[:8]}"
    with api.client("op") as op:
        op.post("/api/v1/variables", json={"key": key, "value": "v"}).raise_for_status()
    with login(api, "user", PASSWORD.format(role="user")) as client:
        client.patch("/api/v1/dags/api_demo", json={"is_paused": False},
                     headers={"X-CSRF-Token": csrf_of(client)}).raise_for_status()
    cli = subprocess.run([sys.executable, "-m", "tandem", "variables", "set", f"{key}_cli", "x"],
                         capture_output=True, text=True, timeout=60, env={**os.environ, **api.env}, check=False)
    assert cli.returncode == 0, cli.stderr
    entries = admin.get("/api/v1/auditLog", params={"limit": 200}).json()["entries"]
    by_action = {(e["username"], e["via"], e["action"]) for e in entries}
    assert ("op", "api", "POST /api/v1/variables") in by_action
    assert ("user", "ui", "PATCH /api/v1/dags/api_demo") in by_action
    assert any(e["via"] == "cli" and e["action"] == "variables set" and f"{key}_cli" in e["target"] for e in entries)
    assert all(e["client"] for e in entries)
    with api.client("op") as op:
        assert op.get("/api/v1/auditLog").status_code == 403
