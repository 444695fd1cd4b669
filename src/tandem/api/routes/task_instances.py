"""Task instances: list, get, mapped instances, tries, set state, clear."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import ApiError, not_found
from tandem.api.queries import dags as dag_queries
from tandem.api.queries import runs as run_queries
from tandem.api.queries import task_instances as q
from tandem.api.schemas import actions
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import MAX_INT, Page, page
from tandem.models import TaskInstance, TaskTry
from tandem.orchestration import TiKey
from tandem.orchestration.actions import clear_task_instances, select_task_ids, set_task_instance_state
from tandem.orchestration.selection import (
    Scope,
    closure,
    external_clears,
    mark_targets,
    scoped_run_ids,
    scoped_task_ids,
)
from tandem.secrets_masker import SecretsMasker, masker_from_db
from tandem.state import TaskInstanceState

router = APIRouter(tags=["TaskInstance"])
viewer = Depends(require(RoleName.VIEWER))
user = Depends(require(RoleName.USER))
TI_PATH = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}"
MapIndex = Annotated[int, Query(ge=-1, le=MAX_INT, description="Map index; -1 for an unmapped task.")]


def ti_response(ti: TaskInstance, logical_date: datetime | None, masker: SecretsMasker) -> r.TaskInstance:
    """A task instance as returned to any role: secrets in its rendered fields and failure are ``***``."""
    return r.TaskInstance(
        task_id=ti.task_id, task_display_name=ti.task_id, dag_id=ti.dag_id, dag_run_id=ti.run_id,
        execution_date=logical_date, start_date=ti.start_date, end_date=ti.end_date, duration=ti.duration,
        state=None if ti.state == "none" else ti.state, try_number=ti.try_number, map_index=ti.map_index,
        max_tries=ti.max_tries, hostname=ti.hostname or "", pool=ti.pool, pool_slots=ti.pool_slots, queue=ti.queue,
        priority_weight=ti.priority_weight, operator=ti.operator, queued_when=ti.queued_at, pid=ti.pid,
        node_id=ti.node_id, failure_reason=masker.redact(ti.failure_reason), rendered_fields=masker.redact(ti.rendered_fields),
    )


def try_response(t: TaskTry) -> r.TaskTry:
    return r.TaskTry(dag_id=t.dag_id, dag_run_id=t.run_id, task_id=t.task_id, map_index=t.map_index,
                     try_number=t.try_number, state=t.state, start_date=t.start_date, end_date=t.end_date,
                     hostname=t.hostname, pid=t.pid, node_id=t.node_id)


def _get(request: Request, dag_id: str, run_id: str, task_id: str, map_index: int) -> r.TaskInstance:
    with db(request) as session:
        run = run_queries.read_run(session, dag_id, run_id)
        ti = q.read_task_instance(session, dag_id, run_id, task_id, map_index) if run else None
        if run is None or ti is None:
            raise not_found(f"task instance {task_id!r} (map index {map_index}) of run {run_id!r}")
        return ti_response(ti, run.logical_date, masker_from_db(session))


def _set_state(request: Request, dag_id: str, run_id: str, task_id: str, map_index: int,
               body: actions.TaskInstanceStatePatch) -> r.TaskInstanceReference:
    key = TiKey(dag_id, run_id, task_id, map_index)
    with db(request) as session:
        run = run_queries.read_run(session, dag_id, run_id)
        if run is None or q.read_task_instance(session, *key) is None:
            raise not_found(f"task instance {task_id!r} (map index {map_index}) of run {run_id!r}")
        if not body.dry_run:
            set_task_instance_state(session, key, TaskInstanceState(body.new_state))
        return r.TaskInstanceReference(task_id=task_id, dag_id=dag_id, dag_run_id=run_id, map_index=map_index,
                                       execution_date=run.logical_date)


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", response_model=r.TaskInstanceCollection,
            dependencies=[viewer])
def get_task_instances(
    request: Request, dag_id: str, dag_run_id: str, p: Annotated[Page, Depends(page)],
    state: Annotated[list[str] | None, Query()] = None, pool: Annotated[list[str] | None, Query()] = None,
) -> r.TaskInstanceCollection:
    """``~`` as ``dag_id`` or ``dag_run_id`` means every DAG or run."""
    with db(request) as session:
        rows, total = q.list_task_instances(session, p, dag_id=None if dag_id == "~" else dag_id,
                                            run_id=None if dag_run_id == "~" else dag_run_id,
                                            states=state, pools=pool)
        masker = masker_from_db(session)
        return r.TaskInstanceCollection(task_instances=[ti_response(ti, d, masker) for ti, d in rows],
                                        total_entries=total)


@router.get(TI_PATH + "/listMapped", response_model=r.TaskInstanceCollection, dependencies=[viewer])
def get_mapped_task_instances(request: Request, dag_id: str, dag_run_id: str, task_id: str,
                              p: Annotated[Page, Depends(page)]) -> r.TaskInstanceCollection:
    with db(request) as session:
        rows, _ = q.list_task_instances(session, p, dag_id=dag_id, run_id=dag_run_id, task_id=task_id)
        masker = masker_from_db(session)
        items = [ti_response(ti, d, masker) for ti, d in rows if ti.map_index >= 0]
        return r.TaskInstanceCollection(task_instances=items, total_entries=len(items))


@router.get(TI_PATH + "/tries", response_model=r.TaskTryCollection, dependencies=[viewer])
def get_task_instance_tries(request: Request, dag_id: str, dag_run_id: str, task_id: str,
                            p: Annotated[Page, Depends(page)], map_index: MapIndex = -1) -> r.TaskTryCollection:
    with db(request) as session:
        rows, total = q.list_tries(session, p, dag_id, dag_run_id, task_id, map_index)
        return r.TaskTryCollection(task_instances=[try_response(t) for t in rows], total_entries=total)


@router.get(TI_PATH + "/tries/{task_try_number}", response_model=r.TaskTry, dependencies=[viewer])
def get_task_instance_try(request: Request, dag_id: str, dag_run_id: str, task_id: str,
                          task_try_number: Annotated[int, Path(ge=1, le=MAX_INT)],
                          map_index: MapIndex = -1) -> r.TaskTry:
    with db(request) as session:
        row = q.read_try(session, dag_id, dag_run_id, task_id, map_index, task_try_number)
        if row is None:
            raise not_found(f"try {task_try_number} of task instance {task_id!r}")
        return try_response(row)


@router.get(TI_PATH, response_model=r.TaskInstance, dependencies=[viewer])
def get_task_instance(request: Request, dag_id: str, dag_run_id: str, task_id: str) -> r.TaskInstance:
    return _get(request, dag_id, dag_run_id, task_id, -1)


@router.patch(TI_PATH, response_model=r.TaskInstanceReference, dependencies=[user])
def patch_task_instance(request: Request, dag_id: str, dag_run_id: str, task_id: str,
                        body: actions.TaskInstanceStatePatch) -> r.TaskInstanceReference:
    return _set_state(request, dag_id, dag_run_id, task_id, -1, body)


@router.get(TI_PATH + "/{map_index}", response_model=r.TaskInstance, dependencies=[viewer])
def get_mapped_task_instance(request: Request, dag_id: str, dag_run_id: str, task_id: str,
                             map_index: Annotated[int, Path(ge=-1, le=MAX_INT)]) -> r.TaskInstance:
    return _get(request, dag_id, dag_run_id, task_id, map_index)


@router.patch(TI_PATH + "/{map_index}", response_model=r.TaskInstanceReference, dependencies=[user])
def patch_mapped_task_instance(request: Request, dag_id: str, dag_run_id: str, task_id: str,
                               map_index: Annotated[int, Path(ge=-1, le=MAX_INT)],
                               body: actions.TaskInstanceStatePatch) -> r.TaskInstanceReference:
    return _set_state(request, dag_id, dag_run_id, task_id, map_index, body)


def _references(session: Any, keys: list[TiKey]) -> list[r.TaskInstanceReference]:
    """References with each instance's current state, for previews."""
    states = {}
    for dag_id, run_id in {(k.dag_id, k.run_id) for k in keys}:
        states.update({(dag_id, run_id, t, m): st for t, m, st in session.execute(
            sa.select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)).all()})
    return [r.TaskInstanceReference(task_id=k.task_id, dag_id=k.dag_id, dag_run_id=k.run_id, map_index=k.map_index,
                                    state=states.get((k.dag_id, k.run_id, k.task_id, k.map_index)))
            for k in keys]


@router.post("/dags/{dag_id}/clearTaskInstances", response_model=r.TaskInstanceReferenceCollection,
             dependencies=[user])
def post_clear_task_instances(request: Request, dag_id: str,
                              body: actions.ClearTaskInstances) -> r.TaskInstanceReferenceCollection:
    """Clear task instances (``dry_run`` defaults to true and ``only_failed`` to true, as in Airflow).

    ``include_past``/``include_future`` (with ``dag_run_id``) add the runs before/after that one.
    """
    if body.only_running:
        raise ApiError(400, "only_running is not supported; clear by task_ids or only_failed")
    if (body.include_past or body.include_future or body.recursive) and body.dag_run_id is None:
        raise ApiError(400, "include_past, include_future and recursive need a dag_run_id to count from")
    with db(request) as session:
        data = dag_queries.read_serialized(session, dag_id)
        if data is None:
            raise not_found(f"DAG {dag_id!r}")
        if body.dag_run_id is not None and run_queries.read_run(session, dag_id, body.dag_run_id) is None:
            raise not_found(f"DAG run {body.dag_run_id!r} of DAG {dag_id!r}")
        task_ids = select_task_ids(session, dag_id, task_ids=body.task_ids, downstream=body.include_downstream)
        if task_ids is not None and body.include_upstream:
            task_ids |= closure(data["tasks"], body.task_ids or (), "upstream")
        run_ids = None
        if body.dag_run_id is not None:
            run_ids = scoped_run_ids(session, dag_id, body.dag_run_id,
                                     Scope(past=body.include_past, future=body.include_future))
        groups: list[tuple[str, list[str] | None, set[str] | None]] = [(dag_id, run_ids, task_ids)]
        if body.recursive and run_ids is not None:
            chosen = task_ids if task_ids is not None else {t["task_id"] for t in data["tasks"]}
            groups += external_clears(session, dag_id, run_ids, chosen)
        keys = [k for group_dag, group_runs, group_tasks in groups
                for k in clear_task_instances(session, group_dag, run_ids=group_runs, task_ids=group_tasks,
                                              only_failed=body.only_failed, dry_run=body.dry_run)]
        if body.dry_run:
            return r.TaskInstanceReferenceCollection(task_instances=_references(session, keys) if keys else [])
        return r.TaskInstanceReferenceCollection(task_instances=[
            r.TaskInstanceReference(task_id=k.task_id, dag_id=k.dag_id, dag_run_id=k.run_id, map_index=k.map_index)
            for k in keys
        ])


@router.post("/dags/{dag_id}/updateTaskInstancesState", response_model=r.TaskInstanceReferenceCollection,
             dependencies=[user])
def post_update_task_instances_state(request: Request, dag_id: str,
                                     body: actions.TaskInstancesStateUpdate) -> r.TaskInstanceReferenceCollection:
    """Mark a task instance and, as chosen, its upstream/downstream tasks in this and past/future runs.

    With ``dry_run`` (the default, as in Airflow) only list the instances that would change.
    """
    with db(request) as session:
        data = dag_queries.read_serialized(session, dag_id)
        if data is None:
            raise not_found(f"DAG {dag_id!r}")
        if body.task_id not in {t["task_id"] for t in data["tasks"]}:
            raise not_found(f"task {body.task_id!r} of DAG {dag_id!r}")
        if run_queries.read_run(session, dag_id, body.dag_run_id) is None:
            raise not_found(f"DAG run {body.dag_run_id!r} of DAG {dag_id!r}")
        scope = Scope(upstream=body.include_upstream, downstream=body.include_downstream, past=body.include_past,
                      future=body.include_future)
        new = TaskInstanceState(body.new_state)
        keys = mark_targets(session, dag_id, scoped_run_ids(session, dag_id, body.dag_run_id, scope),
                            scoped_task_ids(data["tasks"], [body.task_id], scope), new)
        if body.map_index is not None and body.map_index >= 0:
            # One mapped instance was chosen: its siblings stay as they are.
            keys = [k for k in keys if k.task_id != body.task_id or k.map_index == body.map_index]
        refs = _references(session, keys) if keys else []
        if not body.dry_run:
            for key in keys:
                set_task_instance_state(session, key, new)
        return r.TaskInstanceReferenceCollection(task_instances=refs)
