"""The task instance page: details, tries, rendered fields, XComs, and the log with live tail."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db
from tandem.api.errors import not_found
from tandem.api.queries import dags as dag_queries
from tandem.api.queries import runs as run_queries
from tandem.api.queries import task_instances as q
from tandem.api.schemas.filters import MAX_INT
from tandem.api.ui.access import page_for
from tandem.api.ui.render import render
from tandem.models import TaskInstance, TaskTry, XCom
from tandem.secrets_masker import masker_from_db

router = APIRouter(include_in_schema=False)
LIVE = frozenset({"queued", "running", "scheduled", "up_for_retry", "deferred"})


@router.get("/dags/{dag_id}/runs/{run_id}/tasks/{task_id}")
def task_instance(request: Request, dag_id: str, run_id: str, task_id: str,
                  who: Annotated[Identity, Depends(page_for(RoleName.VIEWER))],
                  map_index: Annotated[int, Query(ge=-1, le=MAX_INT)] = -1,
                  try_number: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None) -> Response:
    with db(request) as session:
        dag = dag_queries.read_dag(session, dag_id)
        data = dag_queries.read_serialized(session, dag_id) or {}
        run = run_queries.read_run(session, dag_id, run_id)
        ti = q.read_task_instance(session, dag_id, run_id, task_id, map_index)
        if dag is None or run is None or ti is None:
            raise not_found(f"task instance {task_id!r} (map index {map_index}) of run {run_id!r}")
        tries = list(session.execute(sa.select(TaskTry).where(
            TaskTry.dag_id == dag_id, TaskTry.run_id == run_id, TaskTry.task_id == task_id,
            TaskTry.map_index == map_index).order_by(TaskTry.try_number)).scalars())
        xcoms = list(session.execute(sa.select(XCom).where(
            XCom.dag_id == dag_id, XCom.run_id == run_id, XCom.task_id == task_id,
            XCom.map_index == map_index).order_by(XCom.key)).scalars())
        masker = masker_from_db(session)
        mapped = list(session.execute(sa.select(TaskInstance.map_index, TaskInstance.state).where(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id,
            TaskInstance.map_index >= 0).order_by(TaskInstance.map_index)).tuples())
    task: dict[str, Any] = next((t for t in data.get("tasks", []) if t["task_id"] == task_id), {})
    shown_try = try_number or max(ti.try_number, 1)
    return render(request, "task_instance.html", who, dag=dag, data=data, run=run, ti=ti, task=task, tries=tries,
                  xcoms=[(x.key, masker.redact(x.value, x.key)) for x in xcoms],
                  rendered=masker.redact(ti.rendered_fields), failure_reason=masker.redact(ti.failure_reason),
                  mapped=mapped, try_number=shown_try, try_numbers=list(range(1, max(ti.try_number, 1) + 1)),
                  auto_refresh=False, live=ti.state in LIVE)
