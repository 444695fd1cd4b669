"""The history views, assets and admin pages in Chromium against a live scheduler and api-server.

One DAG produces an asset and pushes an XCom holding a stored connection's password; another
DAG is scheduled on that asset. The calendar, the duration charts, the XCom view and the asset
pages are checked on what really ran. The admin pages are driven like a user would: search,
edit, import a good and a bad file, export. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import ADMIN_PASSWORD, Cluster, screenshot
from tests.fixtures.processes import wait_for

pytestmark = pytest.mark.slow
SECRET = "pw-browser-secret-123"
START = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y, %m, %d")
VIEWS_DAGS = f'''
from datetime import datetime
from tandem import DAG, task
from tandem.sdk.assets import Asset

OUT = Asset("s3://views/out")

with DAG("views_producer", schedule="@daily", start_date=datetime({START}), catchup=False):
    @task
    def extract() -> dict:
        return {{"dsn": "postgres://etl:{SECRET}@db/warehouse", "rows": 3}}

    @task(outlets=[OUT])
    def load(data: dict) -> int:
        return data["rows"]

    load(extract())

with DAG("views_consumer", schedule=OUT, start_date=datetime(2024, 1, 1)):
    @task
    def react() -> str:
        return "ok"

    react()
'''


def log_in(page: object, url: str, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    page.goto(f"{url}/login")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/dags$"))  # type: ignore[attr-defined]


def _watch_errors(page: object, allowed: tuple[str, ...] = ()) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")  # type: ignore[attr-defined]
            if r.status >= 400 and not any(a in r.url for a in allowed) else None)
    return errors


def _runs(cluster: Cluster, dag_id: str) -> list[dict[str, object]]:
    response = httpx.get(f"{cluster.url}/api/v1/dags/{dag_id}/dagRuns", auth=("admin", ADMIN_PASSWORD), timeout=10)
    return response.json().get("dag_runs", []) if response.status_code == 200 else []


def check_history_views(cluster: Cluster, p: object) -> None:
    from playwright.sync_api import expect

    # The calendar shows the successful day and planned days ahead
    p.goto(f"{cluster.url}/dags/views_producer/calendar")  # type: ignore[attr-defined]
    expect(p.locator("svg#calendar rect.day.success")).to_have_count(1)  # type: ignore[attr-defined]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    if tomorrow.year == datetime.now(UTC).year:
        expect(p.locator(f"svg#calendar rect[data-date='{tomorrow}']")).to_have_attribute(  # type: ignore[attr-defined]
            "data-outcome", "planned")
    screenshot(p, "views-01-calendar")

    # and the duration charts have one series per task, with axes and a legend
    p.click("#tab-durations")  # type: ignore[attr-defined]
    for chart in ("task-duration", "landing-time"):
        expect(p.locator(f"svg#{chart} polyline.series")).to_have_count(2)  # type: ignore[attr-defined]
        expect(p.locator(f"svg#{chart} text.legend-label")).to_have_text(["extract", "load"])  # type: ignore[attr-defined]
        assert p.locator(f"svg#{chart} line.axis").count() >= 3  # type: ignore[attr-defined]
        assert p.locator(f"svg#{chart} text", has_text=re.compile(r"\((seconds|minutes|hours)\)")).count() == 1  # type: ignore[attr-defined]
    p.select_option("#chart-runs", "10")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"runs=10"))  # type: ignore[attr-defined]
    screenshot(p, "views-02-task-durations")

    # and the XCom view shows the run's XComs with the password masked
    p.click("#tab-xcoms")  # type: ignore[attr-defined]
    expect(p.locator("#xcoms tr[data-task=extract][data-key=return_value] .xcom-value")).to_contain_text(  # type: ignore[attr-defined]
        "postgres://etl:***@db/warehouse")
    expect(p.locator("#xcoms tr[data-task=load][data-key=return_value] .xcom-value")).to_contain_text("3")  # type: ignore[attr-defined]
    assert SECRET not in p.content()  # type: ignore[attr-defined]
    screenshot(p, "views-03-xcoms")

    # and the asset pages link the event to the run that produced it and the run it triggered
    p.click("nav a:has-text('Assets')")  # type: ignore[attr-defined]
    row = p.locator("#assets tr", has_text="s3://views/out")  # type: ignore[attr-defined]
    expect(row).to_contain_text("views_producer")
    expect(row).to_contain_text("views_consumer")
    screenshot(p, "views-04-assets")
    p.click("a.asset-link:has-text('s3://views/out')")  # type: ignore[attr-defined]
    expect(p.locator("#asset-title")).to_have_text("s3://views/out")  # type: ignore[attr-defined]
    expect(p.locator("#asset-events a.producing-run")).to_contain_text("views_producer")  # type: ignore[attr-defined]
    expect(p.locator("#asset-events a.triggered-run")).to_contain_text("views_consumer")  # type: ignore[attr-defined]
    screenshot(p, "views-05-asset")
    p.click("#asset-events a.triggered-run >> nth=0")  # type: ignore[attr-defined]
    expect(p.locator("#dag-title")).to_have_text("views_consumer")  # type: ignore[attr-defined]


def _import(page: object, what: str, name: str, content: str) -> None:
    page.set_input_files(f"#import-file-{what}", files=[  # type: ignore[attr-defined]
        {"name": name, "mimeType": "application/json", "buffer": content.encode()}])
    page.click(f"#import-{what}")  # type: ignore[attr-defined]


def _export(page: object, what: str) -> dict[str, object]:
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.click(f"#export-{what}")  # type: ignore[attr-defined]
    data: dict[str, object] = json.loads(Path(download.value.path()).read_text())
    return data


def check_admin_pages(cluster: Cluster, p: object) -> None:
    from playwright.sync_api import expect

    # Variables: import a file, a bad file changes nothing, search, edit, export
    p.goto(f"{cluster.url}/variables")  # type: ignore[attr-defined]
    _import(p, "variables", "vars.json", json.dumps({"etl_bucket": "s3://raw", "etl_api_token": "tok-98765",
                                                      "etl_limits": {"rows": 10}}))
    expect(p.locator("#import-result-variables")).to_contain_text("3 created")  # type: ignore[attr-defined]
    expect(p.locator("#variables")).to_contain_text("etl_limits")  # type: ignore[attr-defined]
    _import(p, "variables", "broken.json", '{"etl_bucket": "s3://changed", "x": }')
    expect(p.locator("#import-result-variables")).to_contain_text("broken.json")  # type: ignore[attr-defined]
    expect(p.locator("#import-result-variables")).to_contain_text("not valid JSON")  # type: ignore[attr-defined]
    screenshot(p, "views-06-variables-bad-import")
    p.reload()  # type: ignore[attr-defined]
    expect(p.locator("#variables")).to_contain_text("s3://raw")  # type: ignore[attr-defined]
    expect(p.locator("#variables")).not_to_contain_text("s3://changed")  # type: ignore[attr-defined]
    p.fill("#admin-search", "LIMITS")  # type: ignore[attr-defined]
    p.press("#admin-search", "Enter")  # type: ignore[attr-defined]
    expect(p.locator("#variables tbody tr")).to_have_count(1)  # type: ignore[attr-defined]
    p.goto(f"{cluster.url}/variables/edit?key=etl_api_token")  # type: ignore[attr-defined]
    expect(p.locator("#edit-value")).to_have_value("")  # type: ignore[attr-defined]
    p.fill("#edit-description", "the ETL API's token")  # type: ignore[attr-defined]
    p.click("#edit-save")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/variables$"))  # type: ignore[attr-defined]
    expect(p.locator("#variables")).to_contain_text("the ETL API's token")  # type: ignore[attr-defined]
    exported = _export(p, "variables")
    assert exported["etl_api_token"] == {"value": "tok-98765", "description": "the ETL API's token"}
    assert exported["etl_limits"] == {"rows": 10}
    screenshot(p, "views-07-variables")

    # Connections: extra is readable, a blank password keeps the stored one, export masks nothing for admins
    p.goto(f"{cluster.url}/connections")  # type: ignore[attr-defined]
    extra = {"sslmode": "require", "application_name": "a-rather-long-application-name-for-wrapping",
             "client_secret": "cs-4242", "options": "-c statement_timeout=5000"}
    _import(p, "connections", "conns.json", json.dumps({"pg_main": {
        "conn_type": "postgres", "host": "db.internal", "port": 5432, "login": "etl", "password": "pg-pw-1111",
        "schema": "public", "extra": json.dumps(extra), "description": "main warehouse"}}))
    expect(p.locator("#connections")).to_contain_text("db.internal")  # type: ignore[attr-defined]
    cell = p.locator("#connections td.extra >> nth=0")  # type: ignore[attr-defined]
    expect(cell).to_contain_text('"client_secret": "***"')
    box = cell.bounding_box()
    assert box["width"] > 150 and box["height"] < 200, box  # not one character per line
    _import(p, "connections", "bad-conns.json", json.dumps({"pg_main": {"conn_type": "postgres", "port": "x"}}))
    expect(p.locator("#import-result-connections")).to_contain_text("port must be an integer")  # type: ignore[attr-defined]
    screenshot(p, "views-08-connections")
    p.click("#connections a:has-text('Edit') >> nth=0")  # type: ignore[attr-defined]
    expect(p.locator("#edit-password")).to_have_value("")  # type: ignore[attr-defined]
    expect(p.locator("#edit-host")).to_have_value("db.internal")  # type: ignore[attr-defined]
    assert "pg-pw-1111" not in p.content() and "cs-4242" not in p.content()  # type: ignore[attr-defined]
    p.fill("#edit-host", "db2.internal")  # type: ignore[attr-defined]
    p.click("#edit-save")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/connections$"))  # type: ignore[attr-defined]
    expect(p.locator("#connections")).to_contain_text("db2.internal")  # type: ignore[attr-defined]
    clear = _export(p, "connections")["pg_main"]
    assert clear["password"] == "pg-pw-1111" and json.loads(clear["extra"]) == extra  # type: ignore[index]

    # Pools: import, search, edit, export
    p.goto(f"{cluster.url}/pools")  # type: ignore[attr-defined]
    _import(p, "pools", "pools.json", json.dumps({"etl_pool": {"slots": 4, "description": "ETL"}}))
    expect(p.locator("#pools")).to_contain_text("etl_pool")  # type: ignore[attr-defined]
    _import(p, "pools", "bad-pools.json", json.dumps({"etl_pool": {"slots": -3}, "other": {"slots": 1}}))
    expect(p.locator("#import-result-pools")).to_contain_text("nothing was imported")  # type: ignore[attr-defined]
    p.goto(f"{cluster.url}/pools?search=etl")  # type: ignore[attr-defined]
    expect(p.locator("#pools tbody tr")).to_have_count(1)  # type: ignore[attr-defined]
    p.click("#pools a:has-text('Edit')")  # type: ignore[attr-defined]
    expect(p.locator("#edit-slots")).to_have_value("4")  # type: ignore[attr-defined]
    p.fill("#edit-slots", "6")  # type: ignore[attr-defined]
    p.click("#edit-save")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/pools$"))  # type: ignore[attr-defined]
    assert _export(p, "pools")["etl_pool"] == {"slots": 6, "description": "ETL"}
    assert "other" not in _export(p, "pools")
    screenshot(p, "views-09-pools")

    # Users: an admin makes a user, changes their role, resets their password, disables them
    httpx.post(f"{cluster.url}/api/v1/users", auth=("admin", ADMIN_PASSWORD), timeout=10, json={
        "username": "vera", "password": "vera-first-pw", "role": "op"}).raise_for_status()
    p.goto(f"{cluster.url}/users?search=ver")  # type: ignore[attr-defined]
    expect(p.locator("#users tbody tr")).to_have_count(1)  # type: ignore[attr-defined]
    p.click("#users a:has-text('Edit')")  # type: ignore[attr-defined]
    p.select_option("#edit-role", "viewer")  # type: ignore[attr-defined]
    p.fill("#edit-password", "vera-second-pw")  # type: ignore[attr-defined]
    p.click("#edit-save")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/users$"))  # type: ignore[attr-defined]
    expect(p.locator("#users tr", has_text="vera")).to_contain_text("viewer")  # type: ignore[attr-defined]
    httpx.post(f"{cluster.url}/api/v1/users", auth=("admin", ADMIN_PASSWORD), timeout=10, json={
        "username": "dan", "password": "dan-first-pw", "role": "op"}).raise_for_status()
    p.reload()  # type: ignore[attr-defined]
    p.once("dialog", lambda dialog: dialog.accept())  # type: ignore[attr-defined]
    p.click("#users tr:has-text('dan') button.toggle-active")  # type: ignore[attr-defined]
    expect(p.locator("#users tr.disabled", has_text="dan")).to_have_count(1)  # type: ignore[attr-defined]
    assert httpx.get(f"{cluster.url}/api/v1/users/me", auth=("dan", "dan-first-pw"), timeout=10).status_code == 401
    screenshot(p, "views-10-users")

    # Audit log: filter by user and action, then by DAG and date
    p.goto(f"{cluster.url}/audit-log")  # type: ignore[attr-defined]
    p.fill("#audit-user", "admin")  # type: ignore[attr-defined]
    p.fill("#audit-action", "import")  # type: ignore[attr-defined]
    p.click("#audit-filter")  # type: ignore[attr-defined]
    rows = p.locator("#audit tbody tr")  # type: ignore[attr-defined]
    expect(rows).to_have_count(6)  # three good and three bad imports
    expect(rows.first).to_contain_text("/import")
    p.fill("#audit-action", "")  # type: ignore[attr-defined]
    p.fill("#audit-user", "")  # type: ignore[attr-defined]
    p.fill("#audit-since", "2000-01-01")  # type: ignore[attr-defined]
    p.fill("#audit-until", "2000-01-02")  # type: ignore[attr-defined]
    p.click("#audit-filter")  # type: ignore[attr-defined]
    expect(p.locator("#audit")).to_contain_text("matches these filters")  # type: ignore[attr-defined]
    screenshot(p, "views-11-audit-log")


def test_views_and_admin_pages(cluster: Cluster, page: object) -> None:
    from playwright.sync_api import expect

    # Given a connection whose password a task's XCom will contain, and the producer and consumer DAGs
    httpx.post(f"{cluster.url}/api/v1/connections", auth=("admin", ADMIN_PASSWORD), timeout=10,
               json={"connection_id": "warehouse", "conn_type": "postgres", "password": SECRET}).raise_for_status()
    (cluster.home.parent / "dags" / "views_dags.py").write_text(VIEWS_DAGS)
    # A loaded CI machine can take more than Playwright's default 5 s to reload a page.
    expect.set_options(timeout=20_000)
    p = page
    errors = _watch_errors(p, allowed=("/import",))  # the bad files are refused on purpose
    log_in(p, cluster.url)

    # When an admin works on the admin pages while the producer runs
    check_admin_pages(cluster, p)
    # and the producer's scheduled run succeeds and its asset event triggers the consumer
    wait_for(lambda: any(r["state"] == "success" for r in _runs(cluster, "views_consumer")), timeout=150,
             interval=1, message="views_producer to run and its asset to trigger views_consumer")

    # Then the history views and asset pages show what ran
    check_history_views(cluster, p)

    # and a viewer (vera, now) sees no admin page and cannot export secrets
    p.click("button:has-text('Log out')")  # type: ignore[attr-defined]
    log_in(p, cluster.url, "vera", "vera-second-pw")
    response = p.goto(f"{cluster.url}/variables")  # type: ignore[attr-defined]
    assert response.status == 403
    expect(p.locator("main")).to_contain_text("op role")  # type: ignore[attr-defined]
    assert p.request.get(f"{cluster.url}/api/v1/connections/export").status == 403  # type: ignore[attr-defined]
    errors[:] = [e for e in errors if "/variables" not in e and "/connections/export" not in e]
    assert not errors, errors
