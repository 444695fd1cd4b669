"""The server process itself: workers, node registration, clean stop, /health without a DB."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.engine import Engine

from tests.api.server import ClosingProcesses, free_port, start_api_server


def _nodes(engine: Engine) -> list[tuple[str, str]]:
    from tandem.models import Node

    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(Node.role, Node.state))]  # type: ignore[misc]


def test_workers_register_nodes_and_stop_cleanly(engine: Engine, tmp_path: Path) -> None:
    processes = ClosingProcesses(tmp_path)
    try:
        url, proc = start_api_server(processes, {}, name="workers")
        assert httpx.get(f"{url}/health").status_code == 200
        assert _nodes(engine) == [("api-server", "running")]
        # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says why.
        assert processes.stop(proc) in (0, -15)  # type: ignore[arg-type]
        assert _nodes(engine) == [("api-server", "stopped")]
        port = free_port()
        two = processes.start("api-server", "--port", str(port), "--workers", "2", name="two")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _nodes(engine).count(("api-server", "running")) < 2:
            time.sleep(0.2)
        assert _nodes(engine).count(("api-server", "running")) == 2
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        assert processes.stop(two) in (0, -15)
        assert _nodes(engine).count(("api-server", "stopped")) == 3
    finally:
        processes.cleanup()


def test_health_is_503_when_the_database_is_unreachable(tandem_home: Path) -> None:
    from tandem.api.app import create_app
    from tandem.config import get_settings

    bad = sa.create_engine(f"sqlite:///{tandem_home / 'missing-dir' / 'x.db'}")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(get_settings(), engine=bad), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        response = httpx.get(f"http://127.0.0.1:{port}/health")
        assert response.status_code == 503
        assert response.json()["metadatabase"]["status"] == "unhealthy"
        api = httpx.get(f"http://127.0.0.1:{port}/api/v1/dags", auth=("a", "b"))
        assert api.status_code == 503 and api.json()["title"] == "ServiceUnavailable"
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 401  # security.metrics_require_login
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", auth=("a", "b")).status_code == 503
    finally:
        server.should_exit = True
        thread.join(10)
        bad.dispose()


def test_missing_secret_key_is_refused(tandem_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tandem.api.app import create_app
    from tandem.config import ConfigError, get_settings, reset_settings

    monkeypatch.setenv("TANDEM__API__SECRET_KEY", "")
    reset_settings()
    with pytest.raises(ConfigError, match="secret_key"):
        create_app(get_settings())
