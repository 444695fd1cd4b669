"""Backfill, clear and log flows in Chromium against a live scheduler and api-server.

A backfill made from the DAG page's dialog (with its dry-run preview) runs to its end and its
progress shows it; a backfilled task's log is coloured by level, folds its ::group:: section
and downloads whole with secrets masked; the clear dialog previews what its options touch; a
running try's log is followed without reloading.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN_PASSWORD, Cluster, screenshot
from tests.browser.test_ui import log_in
from tests.fixtures.processes import wait_for

pytestmark = pytest.mark.slow

DAG = '''
from datetime import datetime
from tandem import DAG
from tandem.operators import BashOperator, EmptyOperator

with DAG("bf_browser", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    talk = BashOperator(task_id="talk", bash_command=(
        "echo '::group::Setting up'; echo 'INFO loading {{ var.value.db_password }}'; echo '::endgroup::'; "
        "echo 'WARNING careful now'; echo 'ERROR it broke (not really)'; echo 'DEBUG details'"))
    talk >> EmptyOperator(task_id="after")
'''
SECRET = "hunter2-browser-secret"
RUN2 = "backfill__2024-01-02T00:00:00+00:00"


def test_backfill_dialog_log_viewer_and_clear_dialog(cluster: Cluster, page: object, tmp_path: Path) -> None:
    p: Any = page
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    with httpx.Client(base_url=cluster.url, auth=("admin", ADMIN_PASSWORD), timeout=30) as admin:
        _backfill_log_and_clear(cluster, p, admin, tmp_path, errors)
        # One cluster for both journeys: starting one costs more than either.
        _follow(cluster, p, admin)
    assert errors == []


def _backfill_log_and_clear(cluster: Cluster, p: Any, admin: httpx.Client, tmp_path: Path, errors: list[str]) -> None:
    from playwright.sync_api import expect

    admin.post("/api/v1/variables", json={"key": "db_password", "value": SECRET}).raise_for_status()
    (Path(cluster.env["TANDEM__CORE__DAGS_FOLDER"]) / "bf_browser.py").write_text(DAG)
    wait_for(lambda: admin.get("/api/v1/dags/bf_browser").status_code == 200, timeout=60, interval=0.5,
             message="the DAG processor to store bf_browser")
    log_in(p, cluster.url)

    # Given the backfill dialog with a preview of the runs
    p.goto(f"{cluster.url}/dags/bf_browser/grid")
    p.click("#backfill-button")
    p.fill("#backfill-from", "2024-01-01T00:00")
    p.fill("#backfill-to", "2024-01-03T00:00")
    p.fill("#backfill-max", "2")
    p.click("#backfill-preview-button")
    expect(p.locator("#backfill-summary")).to_have_attribute("data-count", "3")
    expect(p.locator("#backfill-preview tbody tr")).to_have_count(3)
    expect(p.locator("#backfill-preview tbody tr").first).to_contain_text("2024-01-01")
    screenshot(p, "flows-01-backfill-dialog")

    # When it is created, Then its runs go through the scheduler to success and the progress shows it
    p.click("#backfill-create")
    p.wait_for_url(re.compile(r"/dags/bf_browser/backfills$"))
    section = p.locator("section.backfill").first
    expect(section).to_have_attribute("data-state", "completed", timeout=120_000)
    expect(section.locator("[data-count-state=success]")).to_have_text("3 success")
    expect(section.locator(".backfill-runs tbody tr")).to_have_count(3)
    screenshot(p, "flows-02-backfill-progress")

    # The log: levels coloured, the group folded, download whole with the secret masked
    p.goto(f"{cluster.url}/dags/bf_browser/runs/{RUN2}/tasks/talk")
    log = p.locator("#log")
    expect(log.locator(".log-error")).to_contain_text("ERROR it broke")
    expect(log.locator(".log-warning")).to_contain_text("WARNING careful now")
    expect(log.locator(".log-debug")).to_contain_text("DEBUG details")
    group = log.locator("details.log-group")
    expect(group.locator("summary")).to_have_text("Setting up")
    expect(group.locator(".log-line", has_text="loading")).to_be_hidden()
    screenshot(p, "flows-03-log-folded")
    group.locator("summary").click()
    expect(group.locator(".log-line", has_text="loading")).to_be_visible()
    expect(log).not_to_contain_text(SECRET)
    screenshot(p, "flows-04-log-group-open")
    with p.expect_download() as download:
        p.click("#log-download")
    saved = tmp_path / "log.txt"
    download.value.save_as(saved)
    text = saved.read_text()
    assert "ERROR it broke" in text and "::group::Setting up" in text and SECRET not in text
    assert download.value.suggested_filename.endswith("attempt=1.log")

    # The clear dialog: its options change the server's preview; confirming clears that
    p.click("#clear-task")
    dialog = p.locator("#action-dialog")
    expect(dialog.locator("#preview-summary")).to_have_attribute("data-count", "2")  # talk and after
    dialog.locator("#opt-past").check()
    expect(dialog.locator("#preview-summary")).to_have_attribute("data-count", "4")  # and on 2024-01-01
    expect(dialog.locator("#preview-table tbody")).to_contain_text("backfill__2024-01-01")
    dialog.locator("#opt-downstream").uncheck()
    expect(dialog.locator("#preview-summary")).to_have_attribute("data-count", "2")
    screenshot(p, "flows-05-clear-dialog")
    dialog.locator("#dialog-confirm").click()
    wait_for(lambda: admin.get(f"/api/v1/dags/bf_browser/dagRuns/{RUN2}/taskInstances/talk").json()[
        "try_number"] == 2, timeout=60, interval=0.5, message="the cleared task to run again")
    after = admin.get("/api/v1/dags/bf_browser/dagRuns/backfill__2024-01-01T00:00:00+00:00/taskInstances/after")
    assert after.json()["try_number"] == 1  # downstream was unchecked


FOLLOW_DAG = '''
from datetime import datetime
from tandem import DAG
from tandem.operators import BashOperator

with DAG("follow_me", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    BashOperator(task_id="slow", bash_command="echo 'INFO first'; sleep 10; echo 'ERROR second'")
'''


def _follow(cluster: Cluster, p: Any, admin: httpx.Client) -> None:
    """A running try's log grows on the page without a reload while Follow is on."""
    from playwright.sync_api import expect

    (Path(cluster.env["TANDEM__CORE__DAGS_FOLDER"]) / "follow_me.py").write_text(FOLLOW_DAG)
    wait_for(lambda: admin.get("/api/v1/dags/follow_me").status_code == 200, timeout=60, interval=0.5,
             message="the DAG processor to store follow_me")
    admin.post("/api/v1/dags/follow_me/dagRuns", json={"dag_run_id": "f1"}).raise_for_status()
    ti = "/api/v1/dags/follow_me/dagRuns/f1/taskInstances/slow"
    wait_for(lambda: admin.get(ti).json()["state"] == "running", timeout=60, interval=0.2,
             message="the slow task to run")
    # Already logged in by the journey before.
    p.goto(f"{cluster.url}/dags/follow_me/runs/f1/tasks/slow")
    expect(p.locator("#log-follow")).to_be_checked()
    expect(p.locator("#log .log-info", has_text="INFO first")).to_be_visible()
    p.evaluate("window.notReloaded = true")
    expect(p.locator("#log .log-error", has_text="ERROR second")).to_be_visible(
        timeout=30_000)
    assert p.evaluate("window.notReloaded") is True
    expect(p.locator("#log")).to_have_attribute("data-ended", "true", timeout=30_000)
    expect(p.locator("#log-follow")).to_be_disabled()
    screenshot(p, "flows-06-log-followed")
