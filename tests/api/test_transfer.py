"""Import and export of variables, connections and pools: formats, all-or-nothing imports, who sees secrets."""

from __future__ import annotations

import json
import uuid

from tests.api.server import Api


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_variables_round_trip_and_secrets_only_for_admins(api: Api) -> None:
    plain, secret, described = _name("xfer"), _name("xfer_password"), _name("xfer_d")
    body = {plain: {"a": [1, 2]}, secret: "hunter2-" + plain, described: {"value": "v", "description": "why"}}
    with api.client("op") as op, api.client("admin") as admin, api.client("viewer") as viewer:
        result = op.post("/api/v1/variables/import", content=json.dumps(body))
        assert result.status_code == 200, result.text
        assert result.json() == {"created": 3, "updated": 0, "skipped": 0}
        assert op.get(f"/api/v1/variables/{plain}").json()["value"] == '{"a": [1, 2]}'
        assert op.get(f"/api/v1/variables/{described}").json()["description"] == "why"

        by_op = op.get("/api/v1/variables/export")
        assert by_op.headers["content-disposition"].startswith("attachment")
        assert by_op.json()[secret] == "***" and by_op.json()[plain] == {"a": [1, 2]}
        assert by_op.json()[described] == {"value": "v", "description": "why"}
        assert admin.get("/api/v1/variables/export").json()[secret] == "hunter2-" + plain
        assert viewer.get("/api/v1/variables/export").status_code == 403
        assert viewer.post("/api/v1/variables/import", content="{}").status_code == 403

        # A masked export imported back keeps the stored secret.
        again = op.post("/api/v1/variables/import", content=json.dumps({secret: "***"}))
        assert again.json()["updated"] == 1
        assert admin.get("/api/v1/variables/export").json()[secret] == "hunter2-" + plain
        skipped = op.post("/api/v1/variables/import", params={"on_existing": "skip"},
                          content=json.dumps({plain: "changed"}))
        assert skipped.json() == {"created": 0, "updated": 0, "skipped": 1}


def test_a_bad_variables_file_changes_nothing(api: Api) -> None:
    fresh, existing = _name("bad"), _name("bad_existing")
    with api.client("op") as op:
        op.post("/api/v1/variables", json={"key": existing, "value": "old"})
        broken = op.post("/api/v1/variables/import", content='{"a": 1,,}')
        assert broken.status_code == 400 and "not valid JSON" in broken.json()["detail"]
        assert "line 1" in broken.json()["detail"]
        not_object = op.post("/api/v1/variables/import", content="[1, 2]")
        assert "JSON object" in not_object.json()["detail"]
        partial = op.post("/api/v1/variables/import", content=json.dumps({fresh: "new", existing: "x", "": "y"}))
        assert partial.status_code == 400 and "nothing was imported" in partial.json()["detail"]
        failing = op.post("/api/v1/variables/import", params={"on_existing": "fail"},
                          content=json.dumps({fresh: "new", existing: "x"}))
        assert failing.status_code == 400 and f"variable {existing!r}: already exists" in failing.json()["detail"]
        assert op.get(f"/api/v1/variables/{fresh}").status_code == 404
        assert op.get(f"/api/v1/variables/{existing}").json()["value"] == "old"


def test_connections_export_masks_passwords_for_op(api: Api) -> None:
    conn_id, password = _name("xconn"), "pw-" + uuid.uuid4().hex
    entry = {"conn_type": "postgres", "host": "db", "port": 5432, "login": "me", "password": password,
             "schema": "public", "extra": json.dumps({"sslmode": "require", "api_token": "tok-" + conn_id}),
             "description": "imported"}
    with api.client("op") as op, api.client("admin") as admin, api.client("viewer") as viewer:
        assert op.post("/api/v1/connections/import", content=json.dumps({conn_id: entry})).json()["created"] == 1
        masked = op.get("/api/v1/connections/export").json()[conn_id]
        assert masked["password"] == "***" and password not in json.dumps(masked)
        assert json.loads(masked["extra"]) == {"sslmode": "require", "api_token": "***"}
        clear = admin.get("/api/v1/connections/export").json()[conn_id]
        assert clear["password"] == password and "tok-" + conn_id in clear["extra"]
        assert viewer.get("/api/v1/connections/export").status_code == 403
        audit = admin.get("/api/v1/auditLog", params={"username": "admin", "action": "connections/export"}).json()
        assert audit["entries"][0]["details"] == {"entries": "connections", "secrets": "in clear"}
        # Op re-imports its masked export: the secrets stay.
        assert op.post("/api/v1/connections/import", content=json.dumps({conn_id: masked})).json()["updated"] == 1
        assert admin.get("/api/v1/connections/export").json()[conn_id] == clear
        fresh = _name("fresh")
        bad = op.post("/api/v1/connections/import", content=json.dumps(
            {fresh: {"conn_type": "http"}, conn_id: {"conn_type": "http", "port": "x"}}))
        assert bad.status_code == 400 and "port must be an integer" in bad.json()["detail"]
        masked_new = op.post("/api/v1/connections/import", content=json.dumps({fresh: masked}))
        assert masked_new.status_code == 400 and "no stored one to keep" in masked_new.json()["detail"]
        assert "no stored extra to keep" in masked_new.json()["detail"]
        assert op.get(f"/api/v1/connections/{fresh}").status_code == 404


def test_pools_import_export(api: Api) -> None:
    name = _name("xpool")
    with api.client("op") as op, api.client("viewer") as viewer:
        assert op.post("/api/v1/pools/import", content=json.dumps({name: {"slots": 3, "description": "d"}})
                       ).json()["created"] == 1
        exported = viewer.get("/api/v1/pools/export").json()
        assert exported[name] == {"slots": 3, "description": "d"} and "default_pool" in exported
        bad = op.post("/api/v1/pools/import", content=json.dumps({name: {"slots": -1}}))
        assert bad.status_code == 400 and "slots must be an integer 0 or more" in bad.json()["detail"]
        assert op.get(f"/api/v1/pools/{name}").json()["slots"] == 3
        assert viewer.post("/api/v1/pools/import", content="{}").status_code == 403
