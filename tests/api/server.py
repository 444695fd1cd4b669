"""Starting real ``tandem api-server`` processes and talking to them over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.fixtures.processes import Processes

ROLES = ("viewer", "user", "op", "admin")
PASSWORD = "pw-{role}-Secret"


class ClosingProcesses(Processes):
    """``Processes`` whose log files are closed in the parent once the child has them.

    The base class leaves each log file object open in the test process; its garbage
    collection then raises a ResourceWarning, which this suite turns into an error.
    """

    def start(self, *args: str, name: str | None = None, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        name = name or args[0]
        log_path = self.log_dir / f"{name}-{len(self.procs)}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tandem", *args], stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})}, start_new_session=True,
            )
        proc.log_path = log_path  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = Path(proc.log_path).read_text(errors="replace")
            pytest.fail(f"api-server exited with {proc.returncode}:\n{log[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"api-server at {url} not healthy after {timeout} s")


def start_api_server(processes: Processes, env: dict[str, str], port: int | None = None,
                     name: str = "api-server") -> tuple[str, object]:
    port = port or free_port()
    proc = processes.start("api-server", "--host", "127.0.0.1", "--port", str(port), name=name, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    return url, proc


@dataclass
class Api:
    """A running server plus a token and a password for one user of each role."""

    url: str
    env: dict[str, str]
    home: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def basic(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(role, PASSWORD.format(role=role)), timeout=30)


def environment(home: Path, dags: Path, db_url: str) -> dict[str, str]:
    return {
        "TANDEM_HOME": str(home), "TANDEM__CORE__DAGS_FOLDER": str(dags), "TANDEM__CORE__LOAD_EXAMPLES": "false",
        "TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
        "TANDEM__CORE__FERNET_KEY": "q4BRm1TAAQMUYhsAA3bqzZ3jtCPtNSEGUunkr05YDVU=",
        "TANDEM__API__SECRET_KEY": "test-secret-key-of-tandem", "TANDEM__DATABASE__URL": db_url,
        "TANDEM__SCHEDULER__HEARTBEAT_INTERVAL": "1", "TANDEM__SCHEDULER__POLL_INTERVAL": "0.2",
        "TANDEM__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "1", "TANDEM__SCHEDULER__DAG_DIR_LIST_INTERVAL": "2",
    }


@contextmanager
def direct_engine(api: Api) -> Iterator[Engine]:
    """An engine of the test's own on the server's DB, closed at once after use.

    Not the process-wide cached one: function-scoped fixtures elsewhere drop cached pools
    without closing them, which would leave this package's connections to the garbage collector.
    """
    engine = sa.create_engine(api.env["TANDEM__DATABASE__URL"])
    try:
        yield engine
    finally:
        engine.dispose()


def close_engines() -> None:
    """Close every cached engine's connections now, then forget the engines.

    ``dispose_engines`` only drops pools (right after a fork); here the connections must be
    closed, or the garbage collector finds them open later, in whichever test is running then,
    and the ResourceWarning (an error in this suite) lands on that innocent test. What is
    still unreachable is collected here, with that warning silenced, for the same reason.
    """
    import gc
    import warnings

    from tandem.db import engine as engine_module

    for engine in list(engine_module._engines.values()):
        engine.dispose()
    engine_module.dispose_engines()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def apply_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    from tandem.config import reset_settings

    monkeypatch.delenv("TANDEM_CONFIG", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    close_engines()


def seed_users(engine: object) -> dict[str, str]:
    """One user per role (username = role) and a bearer token for each."""
    from tandem.api.auth.tokens import create_token
    from tandem.api.auth.users import create_user
    from tandem.db.session import session_scope

    tokens = {}
    with session_scope(engine) as session:  # type: ignore[arg-type]
        for role in ROLES:
            user = create_user(session, role, PASSWORD.format(role=role), role=role, email=f"{role}@example.com")
            tokens[role] = create_token(session, user)
    return tokens


def child_env(env: dict[str, str]) -> dict[str, str]:
    """The parent's environment with the test's settings on top (for subprocesses)."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("TANDEM")}, **env}
