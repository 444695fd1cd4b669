"""The grid, graph and DAG pages in Chromium, on finished runs written to the DB (no scheduler).

One api-server for the module; the big DAG (200 tasks) shows that the graph fits on load.
Screenshots go to artifacts/screenshots/ (dag-*.png).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.dag_files import DEMO_DAG
from tests.api.server import (
    ClosingProcesses,
    apply_environment,
    child_env,
    close_engines,
    environment,
    start_api_server,
)
from tests.browser.conftest import ADMIN_PASSWORD, screenshot
from tests.fixtures.ui_data import BIG_DAG, BIG_DAG_ID, seed_finished_runs

pytestmark = pytest.mark.slow
BIG_GROUPS = [f"group_{g:02d}" for g in range(12)] + ["group_00.inner"]


def _seed_demo_extras(engine: object, log_folder: Path, run_id: str) -> None:
    """What the panel shows beyond states: an XCom and a log for ``total``."""
    from tandem.db.session import session_scope
    from tandem.models import XCom, utcnow
    from tandem.orchestration import TiKey
    from tandem.runner.logs import try_log_path

    with session_scope(engine) as session:  # type: ignore[arg-type]
        session.add(XCom(dag_id="api_demo", run_id=run_id, task_id="total", map_index=-1, key="return_value",
                         value=6, timestamp=utcnow()))
    path = try_log_path(log_folder, TiKey("api_demo", run_id, "total", -1), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"line {i}\n" for i in range(60)) + "TOTAL IS 6\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from tandem.api.auth.users import create_user
    from tandem.config import get_settings
    from tandem.dag_processing.processor import parse_all
    from tandem.db.engine import get_engine
    from tandem.db.migrate import migrate
    from tandem.db.session import session_scope

    base = tmp_path_factory.mktemp("dag-views")
    home, dags = base / "home", base / "dags"
    home.mkdir()
    dags.mkdir()
    (dags / "api_demo.py").write_text(DEMO_DAG)
    (dags / "big_200.py").write_text(BIG_DAG)
    env = environment(home, dags, f"sqlite:///{home / 'tandem.db'}")
    monkeypatch = pytest.MonkeyPatch()
    processes = ClosingProcesses(base)
    try:
        apply_environment(monkeypatch, env)
        engine = get_engine()
        migrate(engine)
        parse_all(get_settings(), engine)
        with session_scope(engine) as session:
            create_user(session, "admin", ADMIN_PASSWORD, role="admin")
        demo_runs = seed_finished_runs(engine, "api_demo", 2, map_width=3)
        seed_finished_runs(engine, BIG_DAG_ID, 3)
        _seed_demo_extras(engine, get_settings().log_folder, demo_runs[-1])
        close_engines()
        url, _ = start_api_server(processes, child_env(env))
        yield {"url": url, "run": demo_runs[-1]}
    finally:
        processes.cleanup()
        close_engines()
        monkeypatch.undo()


def log_in(page: object, url: str) -> None:
    page.goto(f"{url}/login")  # type: ignore[attr-defined]
    page.fill("#username", "admin")  # type: ignore[attr-defined]
    page.fill("#password", ADMIN_PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/dags")  # type: ignore[attr-defined]


def watch_errors(page: object) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    return errors


def test_grid_panel_keyboard_and_actions(server: dict[str, str], page: object) -> None:
    from playwright.sync_api import expect

    p = page
    errors = watch_errors(p)
    log_in(p, server["url"])
    p.goto(f"{server['url']}/dags/api_demo/grid")  # type: ignore[attr-defined]
    expect(p.locator("#grid-wrap[data-ready=true]")).to_have_count(1)  # type: ignore[attr-defined]
    # Given two finished runs: bars sized by duration, a duration scale and a date axis
    expect(p.locator(".run-bar")).to_have_count(2)  # type: ignore[attr-defined]
    heights = p.eval_on_selector_all(".run-bar", "bars => bars.map(b => b.offsetHeight)")  # type: ignore[attr-defined]
    assert all(h >= 4 for h in heights) and max(heights) > min(heights), heights
    expect(p.locator("#axis-max")).not_to_be_empty()  # type: ignore[attr-defined]
    expect(p.locator(".tick").first).to_contain_text("01-0")  # type: ignore[attr-defined]
    expect(p.locator("tr[data-task-id=double] .map-count")).to_have_text("[3]")  # type: ignore[attr-defined]

    # When a cell is clicked, the panel shows the task instance, its try, XCom and log tail
    p.click("tr[data-task-id=total] a.cell >> nth=1")  # type: ignore[attr-defined]
    panel = p.locator("#details-panel")  # type: ignore[attr-defined]
    expect(panel).to_have_attribute("data-loaded", "true")
    expect(p.locator("#panel-title")).to_have_text("total")  # type: ignore[attr-defined]
    expect(p.locator("#panel-tries tbody tr")).to_have_count(1)  # type: ignore[attr-defined]
    expect(p.locator("#panel-log")).to_contain_text("TOTAL IS 6")  # type: ignore[attr-defined]
    expect(panel).to_contain_text("return_value")
    screenshot(p, "dag-grid-panel")
    p.keyboard.press("Escape")  # type: ignore[attr-defined]
    expect(panel).to_be_hidden()

    # Keyboard: from total, down is the report group's row, then its first task; Enter opens it
    p.keyboard.press("ArrowDown")  # type: ignore[attr-defined]
    p.keyboard.press("ArrowDown")  # type: ignore[attr-defined]
    expect(p.locator(".cell.selected")).to_have_attribute("data-key", "t:report.hello")  # type: ignore[attr-defined]
    p.keyboard.press("Enter")  # type: ignore[attr-defined]
    expect(p.locator("#panel-title")).to_have_text("report.hello")  # type: ignore[attr-defined]
    p.keyboard.press("ArrowUp")  # type: ignore[attr-defined]
    p.keyboard.press("ArrowUp")  # type: ignore[attr-defined]
    p.keyboard.press("ArrowUp")  # type: ignore[attr-defined]
    p.keyboard.press("ArrowUp")  # type: ignore[attr-defined]
    p.keyboard.press("ArrowUp")  # type: ignore[attr-defined]
    p.keyboard.press("ArrowUp")  # type: ignore[attr-defined]
    p.keyboard.press("Enter")  # type: ignore[attr-defined]
    expect(panel).to_have_attribute("data-kind", "run")
    expect(panel).to_contain_text(server["run"])

    # Groups collapse, mapped tasks open into one row per map index
    p.click("[data-toggle-group=report]")  # type: ignore[attr-defined]
    expect(p.locator("tr[data-task-id='report.bye']")).to_be_hidden()  # type: ignore[attr-defined]
    p.click("[data-toggle-group=report]")  # type: ignore[attr-defined]
    expect(p.locator("tr[data-task-id='report.bye']")).to_be_visible()  # type: ignore[attr-defined]
    p.click("button[data-toggle-rows=double]")  # type: ignore[attr-defined]
    expect(p.locator("tr.mapped-child[data-parent=double]")).to_have_count(3)  # type: ignore[attr-defined]

    p.click("tr[data-task-id=total] a.cell >> nth=1")  # type: ignore[attr-defined]
    expect(panel).to_have_attribute("data-loaded", "true")
    failed = p.locator(".panel-action[data-action=failed]")  # type: ignore[attr-defined]
    if p.evaluate("typeof window.openActionDialog === 'function'"):  # type: ignore[attr-defined]
        # The clear/mark options dialog (dialogs.js) answers the tandem:action event: confirm once its preview is in
        failed.click()
        with p.expect_response(lambda r: r.request.method == "POST" and "/updateTaskInstancesState" in r.url  # type: ignore[attr-defined]
                               and '"dry_run":false' in (r.request.post_data or "").replace(" ", "")) as sent:
            p.click("#dialog-confirm:enabled")  # type: ignore[attr-defined]
        assert sent.value.status == 200
    else:
        # A dialog may take the action over through the tandem:action event...
        p.evaluate("""() => document.addEventListener('tandem:action', (e) => {
            window.taken = e.detail.action; e.preventDefault(); }, {once: true})""")  # type: ignore[attr-defined]
        failed.click()
        assert p.evaluate("window.taken") == "failed"  # type: ignore[attr-defined]
        # ...and without one, the button asks with confirm() and posts to the REST API
        p.once("dialog", lambda dialog: dialog.accept())  # type: ignore[attr-defined]
        with p.expect_response(lambda r: r.request.method == "PATCH" and "/taskInstances/total" in r.url) as sent:  # type: ignore[attr-defined]
            failed.click()
        assert sent.value.status == 200
        expect(panel).to_have_attribute("data-state", "failed")
    expect(p.locator("tr[data-task-id=total] a.cell >> nth=1")).to_have_attribute("data-state", "failed")  # type: ignore[attr-defined]
    assert not errors, errors


def test_graph_fit_zoom_pan_groups_and_panel(server: dict[str, str], page: object) -> None:
    from playwright.sync_api import expect

    p = page
    errors = watch_errors(p)
    log_in(p, server["url"])
    expand = "&".join(f"expand={g}" for g in BIG_GROUPS)
    p.goto(f"{server['url']}/dags/{BIG_DAG_ID}/graph?{expand}")  # type: ignore[attr-defined]
    svg = p.locator("svg#graph[data-ready=true]")  # type: ignore[attr-defined]
    expect(svg).to_have_count(1)
    expect(p.locator("svg#graph g.node.task")).to_have_count(200)  # type: ignore[attr-defined]
    # Given 200 tasks, the whole graph fits in the view on load
    inside = p.evaluate("""() => { const v = document.getElementById('graph').getBoundingClientRect();
        const c = document.getElementById('graph-content').getBoundingClientRect();
        return c.left >= v.left - 1 && c.right <= v.right + 1 && c.top >= v.top - 1 && c.bottom <= v.bottom + 1; }""")  # type: ignore[attr-defined]
    assert inside
    fitted = float(svg.get_attribute("data-scale"))
    assert fitted < 1
    screenshot(p, "dag-graph-200-fit")
    # When zoomed in and dragged, the view changes; Fit brings it back
    p.click("#zoom-in")  # type: ignore[attr-defined]
    assert float(svg.get_attribute("data-scale")) > fitted
    before = svg.get_attribute("viewBox")
    box = svg.bounding_box()
    p.mouse.move(box["x"] + 200, box["y"] + 200)  # type: ignore[attr-defined]
    p.mouse.down()  # type: ignore[attr-defined]
    p.mouse.move(box["x"] + 320, box["y"] + 260, steps=5)  # type: ignore[attr-defined]
    p.mouse.up()  # type: ignore[attr-defined]
    assert svg.get_attribute("viewBox") != before
    p.click("#zoom-fit")  # type: ignore[attr-defined]
    assert abs(float(svg.get_attribute("data-scale")) - fitted) < 0.01

    # The demo DAG's run: the edge into the collapsed group ends at the group's node
    p.goto(f"{server['url']}/dags/api_demo/graph?run_id={server['run']}")  # type: ignore[attr-defined]
    expect(p.locator("svg#graph[data-ready=true]")).to_have_count(1)  # type: ignore[attr-defined]
    edge = p.locator("path.edge[data-target='group:report']")  # type: ignore[attr-defined]
    expect(edge).to_have_attribute("data-source", "total")
    end = edge.get_attribute("d").split()[-1].split(",")
    group = p.locator("[data-node-id='group:report'] g.node")  # type: ignore[attr-defined]
    assert (int(end[0]), int(end[1])) == (int(group.get_attribute("data-x")), int(group.get_attribute("data-y")) + 22)
    total = p.locator("[data-node-id='total'] g.node")  # type: ignore[attr-defined]
    assert int(total.get_attribute("data-x")) < int(group.get_attribute("data-x"))
    # Mapped nodes show their count, every task node its operator
    expect(p.locator("[data-node-id=double] .map-badge")).to_have_text("[3]")  # type: ignore[attr-defined]
    expect(p.locator("[data-node-id=total] .op-label")).not_to_be_empty()  # type: ignore[attr-defined]
    # Clicking a node opens the details panel
    p.click("[data-node-id=total]")  # type: ignore[attr-defined]
    expect(p.locator("#panel-title")).to_have_text("total")  # type: ignore[attr-defined]
    expect(p.locator("#details-panel")).to_have_attribute("data-loaded", "true")  # type: ignore[attr-defined]
    screenshot(p, "dag-graph-panel")
    assert not errors, errors


def test_doc_code_and_dag_list(server: dict[str, str], page: object) -> None:
    from playwright.sync_api import expect

    p = page
    errors = watch_errors(p)
    log_in(p, server["url"])
    # The DAG list: an owner column, sorting by column on the server, a Trigger button on one line
    expect(p.locator("#dag-table td.owner").first).not_to_be_empty()  # type: ignore[attr-defined]
    ids = lambda: p.eval_on_selector_all("#dag-table tbody tr", "rows => rows.map(r => r.dataset.dagId)")  # type: ignore[attr-defined]  # noqa: E731
    assert ids() == ["api_demo", BIG_DAG_ID]
    p.click("a.sort[data-sort=dag_id]")  # type: ignore[attr-defined]
    p.wait_for_url("**sort=-dag_id**")  # type: ignore[attr-defined]
    assert ids() == [BIG_DAG_ID, "api_demo"]
    p.click("a.sort[data-sort=last_run]")  # type: ignore[attr-defined]
    p.wait_for_url("**sort=last_run**")  # type: ignore[attr-defined]
    expect(p.locator("th[aria-sort=ascending]")).to_contain_text("Last run")  # type: ignore[attr-defined]
    heights = p.eval_on_selector_all("a.trigger-link", "links => links.map(a => a.getBoundingClientRect().height)")  # type: ignore[attr-defined]
    assert heights and max(heights) < 36, heights
    screenshot(p, "dag-list-sorted")

    # doc_md is markdown with raw HTML shown as text: the <script> is inert
    p.goto(f"{server['url']}/dags/api_demo/grid")  # type: ignore[attr-defined]
    p.click("details.doc summary")  # type: ignore[attr-defined]
    expect(p.locator("#dag-doc")).to_contain_text("<script>alert('x')</script>")  # type: ignore[attr-defined]
    expect(p.locator("#dag-doc script")).to_have_count(0)  # type: ignore[attr-defined]
    # The code: highlighted by class, with line numbers that link to their line
    p.click("#tab-code")  # type: ignore[attr-defined]
    expect(p.locator("#dag-code .highlight span.kn").first).to_have_text("from")  # type: ignore[attr-defined]
    expect(p.locator("#dag-code td.linenos a[href='#L-1']")).to_have_count(1)  # type: ignore[attr-defined]
    assert p.locator("#dag-code [style]").count() == 0  # type: ignore[attr-defined]
    color = p.eval_on_selector("#dag-code span.kn", "e => getComputedStyle(e).color")  # type: ignore[attr-defined]
    assert color != p.eval_on_selector("#dag-code span.n", "e => getComputedStyle(e).color")  # type: ignore[attr-defined]
    screenshot(p, "dag-code")
    assert not errors, errors


def test_dark_mode_and_a_phone_screen(server: dict[str, str], browser: object) -> None:
    from playwright.sync_api import expect

    # The OS prefers dark: the page is dark without any choice stored
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        p.set_default_timeout(20_000)
        errors = watch_errors(p)
        log_in(p, server["url"])
        background = lambda: p.evaluate("getComputedStyle(document.body).backgroundColor")  # noqa: E731
        dark = background()
        assert sum(int(c) for c in dark[4:-1].split(",")[:3]) < 150, dark
        # The toggle overrides it, and the choice survives a reload (localStorage, no inline script)
        p.click("#theme-toggle")
        expect(p.locator("html[data-theme=light]")).to_have_count(1)
        light = background()
        assert light != dark
        p.reload()
        assert background() == light
        p.click("#theme-toggle")
        expect(p.locator("html[data-theme=dark]")).to_have_count(1)
        assert background() == dark
        # 390 px: the nav folds behind the menu button and no page is wider than the screen
        for path in ("/dags", "/dags/api_demo/grid", f"/dags/api_demo/graph?run_id={server['run']}",
                     "/dags/api_demo/code", "/dags/api_demo/runs", "/dags/api_demo/gantt", "/cluster",
                     "/variables", "/connections", "/pools", "/users", "/audit-log", "/my-tokens",
                     f"/dags/api_demo/runs/{server['run']}/tasks/total", "/dags/api_demo/trigger"):
            p.goto(server["url"] + path)
            width = p.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        expect(p.locator("#main-nav")).to_be_hidden()
        screenshot(p, "dag-phone-dark-cluster")
        p.click("#nav-toggle")
        expect(p.locator("#main-nav")).to_be_visible()
        p.goto(server["url"] + "/dags/api_demo/grid")
        p.click("tr[data-task-id=total] a.cell >> nth=1")
        expect(p.locator("#details-panel")).to_have_attribute("data-loaded", "true")
        screenshot(p, "dag-phone-dark-grid")
        assert not errors, errors
    finally:
        context.close()
