"""The details panel's data (grid and graph): a run or a task instance, as JSON, fetched on selection.

Only what the panel shows, with secrets masked and long values clipped as on the full pages;
the log is not here: the panel tails it through the REST API's log route, like the task page.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import JSONResponse

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db
from tandem.api.errors import not_found
from tandem.api.queries import dags as dag_queries
from tandem.api.queries import runs as run_queries
from tandem.api.queries import task_instances as q
from tandem.api.schemas.filters import MAX_INT
from tandem.api.ui.access import page_for
from tandem.api.ui.grid import run_summary
from tandem.models import TaskInstance, TaskTry, XCom
from tandem.secrets_masker import SecretsMasker, masker_from_db

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Identity, Depends(page_for(RoleName.VIEWER))]
MAPPED_SHOWN = 200  # map indexes listed in the panel; the counts cover all of them


def _clip(value: Any, limit: int) -> dict[str, Any]:
    text = value if isinstance(value, str) else _json(value)
    return {"text": text[:limit], "clipped": len(text) > limit, "length": len(text)}


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _masked(masker: SecretsMasker, value: Any, limit: int, name: str | None = None) -> dict[str, Any]:
    return _clip(masker.redact(value, name), limit)


@router.get("/dags/{dag_id}/runs/{run_id}/details")
def run_details(request: Request, dag_id: str, run_id: str, who: Viewer) -> JSONResponse:
    limit = request.app.state.settings.security.page_value_chars
    with db(request) as session:
        run = run_queries.read_run(session, dag_id, run_id)
        if run is None:
            raise not_found(f"run {run_id!r} of DAG {dag_id!r}")
        masker = masker_from_db(session)
        counts = {state: int(n) for state, n in session.execute(
            sa.select(TaskInstance.state, sa.func.count()).where(TaskInstance.dag_id == dag_id,
                                                                   TaskInstance.run_id == run_id)
            .group_by(TaskInstance.state))}
    body = run_summary(run) | {
        "dag_id": dag_id, "queued_at": run.queued_at.isoformat() if run.queued_at else None,
        "triggered_by": run.triggered_by, "conf": _masked(masker, run.conf or {}, limit),
        "scheduling_error": run.scheduling_error, "task_states": counts,
        "bundle_name": run.bundle_name, "bundle_version": run.bundle_version,
    }
    return JSONResponse(body)


@router.get("/dags/{dag_id}/runs/{run_id}/tasks/{task_id}/details")
def task_instance_details(request: Request, dag_id: str, run_id: str, task_id: str, who: Viewer,
                          map_index: Annotated[int, Query(ge=-1, le=MAX_INT)] = -1) -> JSONResponse:
    limit = request.app.state.settings.security.page_value_chars
    with db(request) as session:
        ti = q.read_task_instance(session, dag_id, run_id, task_id, map_index)
        if ti is None:
            raise not_found(f"task instance {task_id!r} (map index {map_index}) of run {run_id!r}")
        data = dag_queries.read_serialized(session, dag_id) or {}
        tries = list(session.execute(sa.select(TaskTry).where(
            TaskTry.dag_id == dag_id, TaskTry.run_id == run_id, TaskTry.task_id == task_id,
            TaskTry.map_index == map_index).order_by(TaskTry.try_number)).scalars())
        xcoms = list(session.execute(sa.select(XCom.key, XCom.value).where(
            XCom.dag_id == dag_id, XCom.run_id == run_id, XCom.task_id == task_id,
            XCom.map_index == map_index).order_by(XCom.key)))
        mapped = list(session.execute(sa.select(TaskInstance.map_index, TaskInstance.state).where(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id,
            TaskInstance.map_index >= 0).order_by(TaskInstance.map_index))) if map_index < 0 else []
        masker = masker_from_db(session)
    task: dict[str, Any] = next((t for t in data.get("tasks", []) if t["task_id"] == task_id), {})
    counts: dict[str, int] = {}
    for _, state in mapped:
        counts[state] = counts.get(state, 0) + 1
    body = {
        "dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": ti.map_index, "state": ti.state,
        "operator": ti.operator or task.get("operator", ""), "try_number": ti.try_number,
        "max_tries": ti.max_tries, "start_date": _iso(ti.start_date), "end_date": _iso(ti.end_date),
        "duration": ti.duration, "hostname": ti.hostname, "pool": ti.pool, "queue": ti.queue,
        "failure_reason": masker.redact(ti.failure_reason), "trigger_rule": task.get("trigger_rule"),
        "tries": [{"try_number": t.try_number, "state": t.state, "start_date": _iso(t.start_date),
                   "end_date": _iso(t.end_date), "hostname": t.hostname,
                   "duration": (t.end_date - t.start_date).total_seconds() if t.end_date else None}
                  for t in tries],
        "xcoms": [{"key": k, "value": _masked(masker, v, limit, k)} for k, v in xcoms],
        "rendered": {k: _masked(masker, v, limit, k) for k, v in (ti.rendered_fields or {}).items()},
        "mapped": {"count": len(mapped), "states": counts,
                   "instances": [{"map_index": i, "state": s} for i, s in mapped[:MAPPED_SHOWN]]},
    }
    return JSONResponse(body)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
