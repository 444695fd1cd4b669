"""A live cluster (scheduler + api-server subprocesses on SQLite) and a headless Chromium.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright's Python package; Playwright's
own browser downloads are never used. Without Chromium these tests skip, or fail under
TANDEM_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.dag_files import DEMO_DAG
from tests.api.server import (
    ClosingProcesses,
    apply_environment,
    child_env,
    close_engines,
    environment,
    start_api_server,
    wait_healthy,
)
from tests.fixtures.processes import wait_for
from tests.fixtures.services import REQUIRE

CHROMIUM = os.environ.get("TANDEM_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ADMIN_PASSWORD = "browser-admin-pw"


def _missing(what: str) -> None:
    message = f"{what}; run scripts/install-system-deps.sh (as root) to install it"
    if REQUIRE:
        pytest.fail(f"{message} (TANDEM_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


def screenshot(page: object, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


@dataclass
class Cluster:
    url: str
    env: dict[str, str]
    processes: ClosingProcesses
    home: Path


def prepare_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A home with a migrated SQLite DB, the demo DAG and an admin user."""
    from tandem.api.auth.users import create_user
    from tandem.config import get_settings
    from tandem.dag_processing.processor import parse_all
    from tandem.db.engine import get_engine
    from tandem.db.migrate import migrate
    from tandem.db.session import session_scope

    home, dags = tmp_path / "home", tmp_path / "dags"
    home.mkdir()
    dags.mkdir()
    (dags / "api_demo.py").write_text(DEMO_DAG)
    env = environment(home, dags, f"sqlite:///{home / 'tandem.db'}")
    apply_environment(monkeypatch, env)
    engine = get_engine()
    migrate(engine)
    parse_all(get_settings(), engine)  # the DAG is there before any scheduler runs
    with session_scope(engine) as session:
        create_user(session, "admin", ADMIN_PASSWORD, role="admin")
    close_engines()
    return env


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    env = prepare_home(tmp_path, monkeypatch)
    processes = ClosingProcesses(tmp_path)
    try:
        processes.start("scheduler", env=child_env(env))
        url, _ = start_api_server(processes, child_env(env))
        wait_for(lambda: httpx.get(f"{url}/api/v1/dags/api_demo", auth=("admin", ADMIN_PASSWORD)).status_code == 200,
                 timeout=60, interval=0.3, message="the scheduler's DAG processor to store api_demo")
        yield Cluster(url, env, processes, tmp_path / "home")
    finally:
        processes.cleanup()
        close_engines()


__all__ = ["ADMIN_PASSWORD", "Cluster", "screenshot", "wait_healthy"]
