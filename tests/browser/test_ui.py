"""The journey of an Airflow user, in Chromium against a live scheduler and api-server.

Log in, find the DAG, trigger it with a param from the generated form, watch the run succeed
in the grid (it polls while the run moves), expand a mapped task, read a task's log, see the
graph with a task group expanded, the Gantt chart and the cluster page. Screenshots go to
artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ADMIN_PASSWORD, Cluster, screenshot

pytestmark = pytest.mark.slow


def log_in(page: object, url: str) -> None:
    page.goto(f"{url}/dags")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/login\?next="))  # type: ignore[attr-defined]
    page.fill("#username", "admin")  # type: ignore[attr-defined]
    page.fill("#password", ADMIN_PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/dags$"))  # type: ignore[attr-defined]


def test_trigger_watch_log_graph(cluster: Cluster, page: object) -> None:
    from playwright.sync_api import expect

    p = page
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    # Every failed request is a bug, except the trigger the test makes fail on purpose.
    p.on("response", lambda r: errors.append(f"{r.status} {r.url}")  # type: ignore[attr-defined]
         if r.status >= 400 and not (r.status == 400 and r.url.endswith("/dagRuns")) else None)
    log_in(p, cluster.url)
    p.fill("#dag-search", "api_")  # type: ignore[attr-defined]
    p.press("#dag-search", "Enter")  # type: ignore[attr-defined]
    expect(p.locator("a.dag-link", has_text="api_demo")).to_be_visible()  # type: ignore[attr-defined]
    screenshot(p, "01-dag-list")

    p.click("a.dag-link:has-text('api_demo')")  # type: ignore[attr-defined]
    expect(p.locator("#dag-title")).to_have_text("api_demo")  # type: ignore[attr-defined]
    p.click("#trigger-button")  # type: ignore[attr-defined]
    expect(p.locator("[data-param=n]")).to_have_value("3")  # type: ignore[attr-defined]
    # The browser's own checks stop n=9 (max 5); conf JSON goes past them, so the server must refuse it.
    p.click("details summary:has-text('Advanced')")  # type: ignore[attr-defined]
    p.fill("#conf-json", '{"n": 9}')  # type: ignore[attr-defined]
    p.click("#trigger-submit")  # type: ignore[attr-defined]
    expect(p.locator("#trigger-error")).to_contain_text("maximum")  # type: ignore[attr-defined]
    p.fill("#conf-json", "{}")  # type: ignore[attr-defined]
    p.fill("[data-param=n]", "4")  # type: ignore[attr-defined]
    screenshot(p, "02-trigger-form")
    p.click("#trigger-submit")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/dags/api_demo/grid$"))  # type: ignore[attr-defined]

    # The grid reloads itself every 3 s while the run is active.
    expect(p.locator(".run-bar[data-state=success]")).to_have_count(1, timeout=90_000)  # type: ignore[attr-defined]
    expect(p.locator("tr[data-task-id='report.bye'] a.cell")).to_have_attribute(  # type: ignore[attr-defined]
        "data-state", "success")
    p.click("button[data-toggle-rows=double]")  # type: ignore[attr-defined]
    expect(p.locator("tr.mapped-child[data-parent=double]:visible")).to_have_count(4)  # type: ignore[attr-defined]
    screenshot(p, "03-grid-success")

    p.click("tr[data-task-id=total] a.cell")  # type: ignore[attr-defined]
    p.click("#details-panel a:has-text('full log and task page')")  # type: ignore[attr-defined]
    expect(p.locator("#ti-state")).to_have_attribute("data-state", "success")  # type: ignore[attr-defined]
    expect(p.locator("#log")).to_contain_text("TOTAL IS 12", timeout=20_000)  # type: ignore[attr-defined]
    expect(p.locator("#xcoms")).to_contain_text("12")  # type: ignore[attr-defined]
    screenshot(p, "04-task-log")

    p.click("a:has-text('api_demo') >> nth=0")  # type: ignore[attr-defined]
    p.click("#tab-graph")  # type: ignore[attr-defined]
    expect(p.locator("svg#graph g.node.task[data-state=success]")).to_have_count(3)  # type: ignore[attr-defined]
    expect(p.locator("svg#graph g.node.group")).to_have_count(1)  # type: ignore[attr-defined]
    p.click("a.group-toggle[data-group=report] >> nth=0")  # type: ignore[attr-defined]
    expect(p.locator("svg#graph g.node.task")).to_have_count(5)  # type: ignore[attr-defined]
    expect(p.locator("svg#graph rect.group-frame")).to_have_count(1)  # type: ignore[attr-defined]
    screenshot(p, "05-graph")

    p.click("#tab-gantt")  # type: ignore[attr-defined]
    expect(p.locator("svg#gantt rect.bar")).to_have_count(8)  # type: ignore[attr-defined]
    screenshot(p, "06-gantt")
    p.click("#tab-code")  # type: ignore[attr-defined]
    expect(p.locator("#dag-code")).to_contain_text("TaskGroup(\"report\")")  # type: ignore[attr-defined]

    p.click("nav a:has-text('Cluster')")  # type: ignore[attr-defined]
    expect(p.locator("#nodes tr[data-role=scheduler].alive")).to_have_count(1)  # type: ignore[attr-defined]
    expect(p.locator("#nodes tr[data-role=api-server].alive")).to_have_count(1)  # type: ignore[attr-defined]
    screenshot(p, "07-cluster")
    assert not errors, errors
