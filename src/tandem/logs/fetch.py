"""Fetching a try's log from the log server of the worker that ran it."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.config import Settings
from tandem.logs.chunk import LogChunk, chunk_from_bytes
from tandem.logs.server import log_url_path
from tandem.logs.token import MissingSecretKey, sign_log_request
from tandem.models import Node, TaskTry
from tandem.orchestration import TiKey

#: Seconds to wait for a worker's answer: a dead worker must not hang the API.
TIMEOUT = 5.0


def try_runner(session: Session, key: TiKey, try_number: int) -> tuple[str, str | None] | None:
    """Host name and node id of whoever claimed the try; None if nobody did (yet)."""
    row = session.execute(
        sa.select(TaskTry.hostname, TaskTry.node_id).where(
            TaskTry.dag_id == key.dag_id,
            TaskTry.run_id == key.run_id,
            TaskTry.task_id == key.task_id,
            TaskTry.map_index == key.map_index,
            TaskTry.try_number == try_number,
        )
    ).one_or_none()
    if row is None or not row.hostname:
        return None
    return row.hostname, row.node_id


def worker_log_server(session: Session, settings: Settings, key: TiKey, try_number: int) -> str | None:
    """Base URL of the log server holding the try's log, from the runner's node details."""
    runner = try_runner(session, key, try_number)
    if runner is None:
        return None
    hostname, node_id = runner
    node = session.get(Node, node_id) if node_id else None
    url = (node.details or {}).get("log_server_url") if node is not None else None
    return str(url) if url else f"http://{hostname}:{settings.logging.worker_log_server_port}"


def fetch_from_worker(settings: Settings, key: TiKey, try_number: int, offset: int = 0) -> LogChunk:
    """The try's log from its worker's log server, as a ``LogChunk``."""
    from tandem.db.session import session_scope

    with session_scope() as session:
        base = worker_log_server(session, settings, key, try_number)
    if base is None:
        return LogChunk("", offset, False, detail="no runner has claimed this try yet")
    try:
        token = sign_log_request(settings.api.secret_key, key, try_number)
    except MissingSecretKey as e:
        return LogChunk("", offset, False, detail=str(e))
    url = f"{base}{log_url_path(key, try_number)}?{urlencode({'offset': offset})}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            data: bytes = response.read()
    except urllib.error.HTTPError as e:
        answer = e.read().decode(errors="replace")
        return LogChunk("", offset, False, detail=f"log server {base} answered {e.code}: {answer}")
    except (urllib.error.URLError, OSError) as e:
        return LogChunk("", offset, False, detail=f"log server {base} unreachable: {getattr(e, 'reason', e)}")
    return chunk_from_bytes(data, offset, f"{base} (worker)")
