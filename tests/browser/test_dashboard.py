"""The cluster dashboard (the home page) in Chromium: a live cluster, a node going dead, coming back.

A scheduler and two api-servers share a SQLite database with a short ``node_timeout``. The
browser watches the first api-server's dashboard (it refreshes itself from its JSON) while the
second api-server is paused with SIGSTOP: its heartbeat ages, the scheduler declares it dead,
and on SIGCONT it heartbeats again and shows alive. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import ClosingProcesses, child_env, close_engines, free_port, wait_healthy
from tests.browser.conftest import ADMIN_PASSWORD, Cluster, prepare_home, screenshot
from tests.fixtures.processes import wait_for

pytestmark = pytest.mark.slow
FAST_LIVENESS = {"TANDEM__SCHEDULER__NODE_TIMEOUT": "3", "TANDEM__SCHEDULER__HEARTBEAT_INTERVAL": "0.5"}


@pytest.fixture
def two_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Cluster, object]]:
    env = {**prepare_home(tmp_path, monkeypatch), **FAST_LIVENESS}
    processes = ClosingProcesses(tmp_path)
    try:
        # Started together, waited for together: start-up dominates this test's time.
        processes.start("scheduler", env=child_env(env))
        ports = [free_port(), free_port()]
        servers = [processes.start("api-server", "--host", "127.0.0.1", "--port", str(port), name=f"api-server-{port}",
                                   env=child_env(env)) for port in ports]
        for port, server in zip(ports, servers, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}", server, timeout=60)
        nodes = f"http://127.0.0.1:{ports[0]}/api/v1/cluster/nodes?role=scheduler"
        wait_for(lambda: any(n["alive"] for n in httpx.get(nodes, auth=("admin", ADMIN_PASSWORD)).json()["nodes"]),
                 timeout=60, interval=0.3, message="the scheduler to register")
        yield Cluster(f"http://127.0.0.1:{ports[0]}", env, processes, tmp_path / "home"), servers[1]
    finally:
        for proc in processes.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        processes.cleanup()
        close_engines()


def test_dashboard_shows_a_node_die_and_come_back(two_servers: tuple[Cluster, object], page: object) -> None:
    from playwright.sync_api import expect

    cluster, other = two_servers
    p = page
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    p.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)  # type: ignore[attr-defined]
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    httpx.post(f"{cluster.url}/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": "dash"},
               auth=("admin", ADMIN_PASSWORD), timeout=30).raise_for_status()

    # Given the dashboard, the home page, after logging in
    p.goto(f"{cluster.url}/")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/login\?next="))  # type: ignore[attr-defined]
    p.fill("#username", "admin")  # type: ignore[attr-defined]
    p.fill("#password", ADMIN_PASSWORD)  # type: ignore[attr-defined]
    p.click("button[type=submit]")  # type: ignore[attr-defined]
    p.goto(f"{cluster.url}/")  # type: ignore[attr-defined]
    expect(p.locator("#dash-nodes tr[data-role=scheduler][data-state=alive]")).to_have_count(1, timeout=20_000)  # type: ignore[attr-defined]
    expect(p.locator("#dash-nodes tr[data-role=api-server][data-state=alive]")).to_have_count(2, timeout=20_000)  # type: ignore[attr-defined]
    expect(p.locator("#dash-db [data-field=dialect]")).to_have_text("sqlite")  # type: ignore[attr-defined]
    # The run's seven tries show up in the last hour's outcomes without reloading the page.
    expect(p.locator("#dash-tis [data-field=success]")).to_have_text("7", timeout=90_000)  # type: ignore[attr-defined]
    expect(p.locator("#dash-tis svg.bars rect.bar-success")).not_to_have_count(0)  # type: ignore[attr-defined]
    expect(p.locator("#dash-runs [data-field=success]")).to_have_text("1", timeout=20_000)  # type: ignore[attr-defined]
    scheduler_row = p.locator("#dash-nodes tr[data-role=scheduler]")  # type: ignore[attr-defined]
    expect(scheduler_row.locator("td").nth(9)).not_to_have_text("", timeout=20_000)  # passes/s, from its heartbeat
    expect(scheduler_row.locator("a", has_text="metrics")).to_have_count(1)
    screenshot(p, "dashboard-01-live-cluster")

    # When the second api-server is paused, past node_timeout
    os.kill(other.pid, signal.SIGSTOP)  # type: ignore[attr-defined]
    # Then the page shows it silent, then declared dead by the scheduler (it repairs every 5 s)
    dead = p.locator("#dash-nodes tr[data-role=api-server][data-state=dead]")  # type: ignore[attr-defined]
    expect(dead).to_have_count(1, timeout=30_000)
    expect(dead.locator("td").nth(2)).to_have_text(str(other.pid))  # type: ignore[attr-defined]
    screenshot(p, "dashboard-02-node-dead")

    # When it resumes, it learns it was fenced, re-registers its heartbeat and shows alive again
    os.kill(other.pid, signal.SIGCONT)  # type: ignore[attr-defined]
    expect(p.locator("#dash-nodes tr[data-role=api-server][data-state=alive]")).to_have_count(2, timeout=30_000)  # type: ignore[attr-defined]
    expect(dead).to_have_count(0)
    expect(p.locator("#dash-queues")).to_contain_text("Nothing queued.")  # empty lists say so after a redraw
    screenshot(p, "dashboard-03-node-back")
    # The DAG list is still one click away.
    p.click("nav a[href='/dags']")  # type: ignore[attr-defined]
    expect(p.locator("a.dag-link", has_text="api_demo")).to_be_visible()  # type: ignore[attr-defined]
    assert not errors, errors
