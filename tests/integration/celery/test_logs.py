"""Task logs across nodes: tokens, the worker log server, remote storage, and the order in
which ``read_try_log`` tries them."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tandem.config import Settings, get_settings, reset_settings
from tandem.db.session import session_scope
from tandem.logs.reader import read_try_log
from tandem.logs.remote import upload_try_log
from tandem.logs.server import NEXT_OFFSET_HEADER, LogServer, log_url_path, parse_log_url_path
from tandem.logs.token import sign_log_request, verify_log_request
from tandem.models import DagRun, Node, TaskTry
from tandem.orchestration import TiKey
from tandem.runner.logs import try_log_path

KEY = TiKey("dag", "manual__2024-01-01T00:00:00+00:00", "task", 2)


def write_log(base: Path, text: str, key: TiKey = KEY, try_number: int = 1) -> Path:
    path = try_log_path(base, key, try_number)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_tokens_open_one_try_briefly() -> None:
    token = sign_log_request("secret", KEY, 1)
    assert verify_log_request("secret", token, KEY, 1)
    assert not verify_log_request("secret", token, KEY, 2)
    assert not verify_log_request("secret", token, KEY._replace(task_id="other"), 1)
    assert not verify_log_request("other-secret", token, KEY, 1)
    assert not verify_log_request("", token, KEY, 1)
    time.sleep(1.1)
    assert not verify_log_request("secret", token, KEY, 1, max_age=0)


def test_url_paths_round_trip_any_ids() -> None:
    key = TiKey("dag/../x", "run id?%&#", "task", -1)
    assert parse_log_url_path(log_url_path(key, 3)) == (key, 3)
    with pytest.raises(ValueError):
        parse_log_url_path("/log/a/b")


@pytest.fixture
def worker_settings(tmp_path: Path, tandem_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TANDEM__LOGGING__BASE_LOG_FOLDER", str(tmp_path / "worker-logs"))
    monkeypatch.setenv("TANDEM__LOGGING__WORKER_LOG_SERVER_PORT", "0")
    monkeypatch.setenv("TANDEM__LOGGING__WORKER_LOG_SERVER_ADDRESS", "127.0.0.1")
    reset_settings()
    settings = get_settings()
    reset_settings()
    monkeypatch.delenv("TANDEM__LOGGING__BASE_LOG_FOLDER")
    return settings


@pytest.fixture
def log_server(worker_settings: Settings) -> Iterator[LogServer]:
    server = LogServer(worker_settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def get(url: str, token: str | None) -> tuple[int, bytes, str | None]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status, response.read(), response.headers.get(NEXT_OFFSET_HEADER)
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read(), None


def test_log_server_serves_a_signed_request_from_an_offset(
    log_server: LogServer, worker_settings: Settings
) -> None:
    write_log(worker_settings.log_folder, "line one\nline two\n")
    url = log_server.url + log_url_path(KEY, 1)
    token = sign_log_request(worker_settings.api.secret_key, KEY, 1)
    assert get(url, token) == (200, b"line one\nline two\n", "18")
    assert get(url + "?offset=9", token) == (200, b"line two\n", "18")
    assert get(url + "?offset=18", token) == (200, b"", "18")


def test_log_server_refuses_what_it_should(log_server: LogServer, worker_settings: Settings) -> None:
    write_log(worker_settings.log_folder, "secret stuff\n")
    url = log_server.url + log_url_path(KEY, 1)
    assert get(url, None)[0] == 403
    assert get(url, "forged")[0] == 403
    assert get(url, sign_log_request(worker_settings.api.secret_key, KEY, 2))[0] == 403
    missing = KEY._replace(task_id="never_ran")
    assert (
        get(
            log_server.url + log_url_path(missing, 1),
            sign_log_request(worker_settings.api.secret_key, missing, 1),
        )[0]
        == 404
    )
    escape = TiKey("..", "..", "..", -1)
    assert get(
        log_server.url + log_url_path(escape, 1), sign_log_request(worker_settings.api.secret_key, escape, 1)
    )[0] in (400, 404)
    assert get(url + "?offset=-1", sign_log_request(worker_settings.api.secret_key, KEY, 1))[0] == 400


def record_try(engine: Engine, node_id: str | None, hostname: str, details: dict[str, object]) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(
            DagRun(
                dag_id=KEY.dag_id,
                run_id=KEY.run_id,
                logical_date=now,
                run_after=now,
                run_type="manual",
                state="running",
            )
        )
        if node_id:
            session.add(
                Node(
                    id=node_id,
                    role="worker",
                    hostname=hostname,
                    pid=1,
                    version="x",
                    state="running",
                    started_at=now,
                    last_heartbeat=now,
                    details=details,
                )
            )
        session.flush()
        session.add(
            TaskTry(
                dag_id=KEY.dag_id,
                run_id=KEY.run_id,
                task_id=KEY.task_id,
                map_index=KEY.map_index,
                try_number=1,
                state="running",
                start_date=now,
                hostname=hostname,
                node_id=node_id,
            )
        )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_reader_falls_back_from_local_to_remote_to_the_worker(
    log_server: LogServer,
    worker_settings: Settings,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a try that ran on a worker whose log server is registered in its node details
    record_try(engine, "node-1", "worker-a", {"log_server_url": log_server.url})
    write_log(worker_settings.log_folder, "from the worker\n")
    monkeypatch.setenv("TANDEM__LOGGING__REMOTE_BASE_LOG_FOLDER", str(tmp_path / "remote"))
    reset_settings()
    reader = get_settings()

    # Then a reader without a local copy gets it from the worker (remote storage has none yet)
    chunk = read_try_log(reader, KEY, 1)
    assert (chunk.found, chunk.text, chunk.next_offset) == (True, "from the worker\n", 16)
    assert chunk.source == f"{log_server.url} (worker)"

    # When the finished try's log was copied to remote storage, remote wins over the worker
    remote = worker_settings.logging.model_copy(update={"remote_base_log_folder": str(tmp_path / "remote")})
    upload_try_log(worker_settings.model_copy(update={"logging": remote}), KEY, 1)
    chunk = read_try_log(reader, KEY, 1, offset=5)
    assert (chunk.text, chunk.next_offset, chunk.source.endswith("(remote)")) == ("the worker\n", 16, True)

    # ... and a local copy wins over everything
    write_log(reader.log_folder, "local copy\n")
    assert read_try_log(reader, KEY, 1).text == "local copy\n"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_reader_says_why_it_found_nothing(engine: Engine) -> None:
    settings = get_settings()
    chunk = read_try_log(settings, KEY, 1)
    assert not chunk.found and "no runner has claimed" in chunk.detail
    record_try(engine, "node-gone", "worker-gone", {"log_server_url": "http://127.0.0.1:1"})
    chunk = read_try_log(settings, KEY, 1)
    assert not chunk.found and "unreachable" in chunk.detail


def test_a_character_cut_at_the_end_of_a_chunk_is_left_for_the_next_read(tandem_home: Path) -> None:
    settings = get_settings()
    write_log(settings.log_folder, "café")  # "é" is two bytes
    path = try_log_path(settings.log_folder, KEY, 1)
    path.write_bytes(path.read_bytes()[:-1])
    chunk = read_try_log(settings, KEY, 1)
    assert (chunk.text, chunk.next_offset) == ("caf", 3)


def test_a_second_log_server_on_the_host_takes_a_free_port(worker_settings: Settings) -> None:
    # Given a worker's log server on the configured port
    first = LogServer(worker_settings)
    first.start()
    try:
        same_port = worker_settings.model_copy(update={
            "logging": worker_settings.logging.model_copy(update={"worker_log_server_port": first.port})})

        # When a second worker on the same host starts one with the same settings
        second = LogServer(same_port)
        second.start()
        try:
            # Then it serves on another port, and both serve
            write_log(worker_settings.log_folder, "from the log folder\n")
            token = sign_log_request(worker_settings.api.secret_key, KEY, 1)
            assert second.port not in (0, first.port)
            for server in (first, second):
                assert get(server.url + log_url_path(KEY, 1), token)[:2] == (200, b"from the log folder\n")
        finally:
            second.stop()
    finally:
        first.stop()
