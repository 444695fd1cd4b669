"""Task logs by try, with a continuation token for tailing.

Reading goes through ``tandem.logs.reader.read_try_log`` only, so when logs come from remote
workers or storage this route does not change. The token is the byte offset reached, signed so
that a client cannot forge it into something else; ``offset`` is accepted too for scripts.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.responses import PlainTextResponse, Response

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, get_settings, require
from tandem.api.errors import ApiError, not_found
from tandem.api.queries import task_instances as q
from tandem.api.routes.task_instances import TI_PATH, MapIndex
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import MAX_INT, MAX_LOG_OFFSET
from tandem.config import Settings
from tandem.logs.reader import read_try_log
from tandem.models import TaskInstance
from tandem.orchestration import TiKey
from tandem.secrets_masker import SecretsMasker, masker_from_db

router = APIRouter(tags=["TaskInstance"])
# The most a downloaded log holds; longer logs are cut (and say so) rather than filling memory.
MAX_DOWNLOAD = 64 << 20
LIVE_STATES = frozenset({"queued", "running", "scheduled", "none", "deferred"})


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="tandem.log")


def _try_is_over(ti: TaskInstance, try_number: int) -> bool:
    return ti.try_number > try_number or ti.state not in LIVE_STATES


@router.get(TI_PATH + "/logs/{task_try_number}", response_model=r.TaskLog,
            dependencies=[Depends(require(RoleName.VIEWER))],
            responses={200: {"content": {"text/plain": {}}}})
def get_log(
    request: Request, dag_id: str, dag_run_id: str, task_id: str,
    task_try_number: Annotated[int, Path(ge=1, le=MAX_INT)], map_index: MapIndex = -1,
    token: Annotated[str | None, Query(max_length=1000, description="continuation_token of the previous call")] = None,
    offset: Annotated[int | None, Query(ge=0, le=MAX_LOG_OFFSET, description="Byte offset to read from")] = None,
    full_content: bool = False,
    download: Annotated[bool, Query(description="The whole log as a file (Content-Disposition: attachment)")] = False,
) -> r.TaskLog | Response:
    settings = get_settings(request)
    start = offset or 0
    if token and not full_content:
        try:
            start = int(_serializer(settings.api.secret_key).loads(token)["o"])
            if not 0 <= start <= MAX_LOG_OFFSET:
                raise ValueError(start)
        except (BadSignature, KeyError, TypeError, ValueError):
            raise ApiError(400, "bad continuation token") from None
    if full_content:
        start = 0
    with db(request) as session:
        ti = q.read_task_instance(session, dag_id, dag_run_id, task_id, map_index)
        masker = masker_from_db(session)
    if ti is None:
        raise not_found(f"task instance {task_id!r} (map index {map_index}) of run {dag_run_id!r}")
    if task_try_number > max(ti.try_number, 1):
        raise not_found(f"try {task_try_number} of task instance {task_id!r}")
    if download:
        return _download(settings, TiKey(dag_id, dag_run_id, task_id, map_index), task_try_number, masker)
    chunk = read_try_log(settings, TiKey(dag_id, dag_run_id, task_id, map_index), task_try_number, start)
    over = _try_is_over(ti, task_try_number)
    content = masker.redact_text(chunk.text)
    if not chunk.found and over and start == 0:
        content = "*** No log found for this try (it never started, or its log is gone).\n"
    next_token = _serializer(settings.api.secret_key).dumps({"o": chunk.next_offset})
    if "text/plain" in request.headers.get("accept", ""):
        return PlainTextResponse(content, headers={"X-Continuation-Token": next_token,
                                                   "X-End-Of-Log": "true" if over else "false"})
    return r.TaskLog(content=content, continuation_token=next_token, end_of_log=over)


def _download(settings: Settings, key: TiKey, try_number: int, masker: SecretsMasker) -> Response:
    """The whole log (up to MAX_DOWNLOAD bytes), masked as a whole so no secret is split between reads."""
    parts: list[str] = []
    offset = 0
    while offset < MAX_DOWNLOAD:
        chunk = read_try_log(settings, key, try_number, offset)
        if not chunk.found or chunk.next_offset == offset:
            break
        parts.append(chunk.text)
        offset = chunk.next_offset
    content = masker.redact_text("".join(parts)) if parts else "*** No log found for this try.\n"
    if offset >= MAX_DOWNLOAD:
        content += f"\n*** Cut at {MAX_DOWNLOAD} bytes.\n"
    name = "__".join([key.dag_id, key.run_id, key.task_id] + ([str(key.map_index)] if key.map_index >= 0 else [])
                     + [f"attempt={try_number}"])
    filename = re.sub(r"[^A-Za-z0-9._=-]+", "_", name) + ".log"
    return PlainTextResponse(content, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
