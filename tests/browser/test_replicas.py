"""Two api-server replicas behind nginx (deploy/nginx.conf): a session survives losing one.

Log in through nginx in Chromium, use the UI, kill -9 one replica, and keep using the UI (and
a write with the session's CSRF token) through the other: the signed session cookie is valid
on every replica, and nginx moves on to the live one.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import ClosingProcesses, child_env, close_engines, free_port, start_api_server
from tests.browser.conftest import ADMIN_PASSWORD, _missing, prepare_home, screenshot
from tests.browser.nginx import nginx_binary, render_config, start_nginx
from tests.fixtures.processes import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def nginx_path() -> str:
    binary = nginx_binary()
    if binary is None:
        _missing("nginx is not installed")
    assert binary is not None
    return binary


@pytest.fixture
def replicas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nginx_path: str) -> Iterator[dict[str, object]]:
    env = prepare_home(tmp_path, monkeypatch)
    processes = ClosingProcesses(tmp_path)
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    proxy = None
    try:
        first_url, first = start_api_server(processes, child_env(env), name="replica-a")
        second_url, second = start_api_server(processes, child_env(env), name="replica-b")
        port = free_port()
        conf = render_config(prefix, port, [int(first_url.rsplit(":", 1)[1]), int(second_url.rsplit(":", 1)[1])])
        proxy = start_nginx(nginx_path, prefix, conf)
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if proxy.poll() is not None:
                pytest.fail("nginx exited: " + (prefix / "nginx.out").read_text() + _error_log(prefix))
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=20, message="nginx to answer /health")
        yield {"url": url, "first": first, "second": second, "processes": processes, "prefix": prefix}
    finally:
        if proxy is not None and proxy.poll() is None:
            proxy.send_signal(signal.SIGQUIT)
            try:
                proxy.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proxy.pid, signal.SIGKILL)
                proxy.wait(5)
        processes.cleanup()
        close_engines()


def _error_log(prefix: Path) -> str:
    logs = list(prefix.glob("*error*.log"))
    return logs[0].read_text() if logs else ""


def _served(proc: object) -> int:
    return Path(proc.log_path).read_text(errors="replace").count('" 200')


def test_session_survives_losing_a_replica(replicas: dict[str, object], page: object) -> None:
    from playwright.sync_api import expect

    url = str(replicas["url"])
    p = page
    p.goto(f"{url}/dags")  # type: ignore[attr-defined]
    p.fill("#username", "admin")  # type: ignore[attr-defined]
    p.fill("#password", ADMIN_PASSWORD)  # type: ignore[attr-defined]
    p.click("button[type=submit]")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r"/dags$"))  # type: ignore[attr-defined]
    expect(p.locator("a.dag-link", has_text="api_demo")).to_be_visible()  # type: ignore[attr-defined]
    for _ in range(6):  # round-robin: both replicas serve this session
        p.goto(f"{url}/cluster")  # type: ignore[attr-defined]
        expect(p.locator("#nodes tr[data-role=api-server].alive")).to_have_count(2)  # type: ignore[attr-defined]
    assert _served(replicas["first"]) > 0 and _served(replicas["second"]) > 0
    screenshot(p, "10-nginx-two-replicas")

    replicas["processes"].kill9(replicas["first"])  # type: ignore[attr-defined]
    for _ in range(4):
        p.goto(f"{url}/dags")  # type: ignore[attr-defined]
        expect(p.locator("a.dag-link", has_text="api_demo")).to_be_visible()  # type: ignore[attr-defined]
    assert "/login" not in p.url  # type: ignore[attr-defined]
    toggle = p.locator("tr[data-dag-id=api_demo] input.pause-toggle")  # type: ignore[attr-defined]
    toggle.dispatch_event("click")  # the switch's input is visually hidden
    expect(p.locator("#flash")).to_contain_text("api_demo is paused")  # type: ignore[attr-defined]
    p.goto(f"{url}/dags/api_demo/grid")  # type: ignore[attr-defined]
    expect(p.locator("#dag-title")).to_have_text("api_demo")  # type: ignore[attr-defined]
    expect(p.locator("tr[data-task-id=numbers]")).to_have_count(1)  # type: ignore[attr-defined]
    screenshot(p, "11-nginx-after-failover")
    with httpx.Client(base_url=url, auth=("admin", ADMIN_PASSWORD)) as client:
        assert client.get("/api/v1/dags/api_demo").json()["is_paused"] is True
        assert all(client.get("/health").status_code == 200 for _ in range(5))
