"""``/dags``: list, get, pause/unpause, delete, tasks and sources."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import not_found
from tandem.api.queries import dags as q
from tandem.api.schemas import actions
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import Page, page
from tandem.dag_processing.store import fileloc_hash
from tandem.models import DagModel
from tandem.models import queries as model_queries

router = APIRouter(tags=["DAG"])
viewer = Depends(require(RoleName.VIEWER))
user = Depends(require(RoleName.USER))


def _schedule(data: dict[str, Any] | None) -> r.ScheduleInterval | None:
    schedule = (data or {}).get("schedule") or {}
    kind = schedule.get("kind")
    if not kind or kind == "none":
        return None
    kinds = {"cron": "CronExpression", "timedelta": "TimeDelta", "preset": "CronExpression"}
    value = schedule.get("expr") if schedule.get("expr") is not None else schedule.get("seconds")
    return r.ScheduleInterval(type=kinds.get(kind, kind), value=None if value is None else str(value))


def dag_response(dag: DagModel, data: dict[str, Any] | None = None, *, detail: bool = False) -> r.DAG:
    base: dict[str, Any] = dict(  # noqa: C408  (keyword form reads as the schema)
        dag_id=dag.dag_id, dag_display_name=dag.dag_id, is_paused=dag.is_paused, is_active=dag.is_active,
        last_parsed_time=dag.last_parsed_time, fileloc=dag.fileloc, file_token=fileloc_hash(dag.fileloc),
        owners=[o for o in (dag.owners or "").split(",") if o], description=dag.description,
        schedule_interval=_schedule(data), timetable_description=dag.timetable_summary,
        tags=[r.Tag(name=t) for t in dag.tags or []], max_active_tasks=dag.max_active_tasks,
        max_active_runs=dag.max_active_runs, has_import_errors=dag.has_import_errors,
        next_dagrun=dag.next_dagrun, next_dagrun_data_interval_start=dag.next_dagrun_data_interval_start,
        next_dagrun_data_interval_end=dag.next_dagrun_data_interval_end,
        next_dagrun_create_after=dag.next_dagrun_create_after, scheduling_error=dag.scheduling_error,
        bundle_name=dag.bundle_name, bundle_version=dag.bundle_version,
    )
    if not detail:
        return r.DAG(**base)
    data = data or {}
    return r.DAGDetail(**base, catchup=data.get("catchup"), start_date=data.get("start_date"),
                       end_date=data.get("end_date"), timezone=data.get("timezone"),
                       dagrun_timeout=data.get("dagrun_timeout"), doc_md=data.get("doc_md"),
                       params=data.get("params") or {}, owner=data.get("owner"))


def task_response(t: dict[str, Any]) -> r.Task:
    return r.Task(
        task_id=t["task_id"], task_display_name=t["task_id"], operator_name=t.get("operator", ""),
        task_group=t.get("task_group") or "", downstream_task_ids=list(t.get("downstream", [])),
        upstream_task_ids=list(t.get("upstream", [])), trigger_rule=t.get("trigger_rule", "all_success"),
        retries=int(t.get("retries") or 0), pool=t.get("pool") or "default_pool",
        pool_slots=int(t.get("pool_slots") or 1), priority_weight=int(t.get("priority_weight") or 1),
        queue=t.get("queue") or "default", owner=t.get("owner") or "", doc_md=t.get("doc_md"),
        is_mapped=bool(t.get("mapped")), template_fields=list(t.get("template_fields", [])),
        execution_timeout=t.get("execution_timeout"), retry_delay=t.get("retry_delay"), ui_color=t.get("ui_color"),
    )


@router.get("/dags", response_model=r.DAGCollection, dependencies=[viewer])
def get_dags(
    request: Request, p: Annotated[Page, Depends(page)],
    tags: Annotated[list[str] | None, Query(description="Only DAGs with any of these tags.")] = None,
    only_active: bool = True, paused: bool | None = None,
    dag_id_pattern: Annotated[str | None, Query(max_length=200)] = None,
) -> r.DAGCollection:
    with db(request) as session:
        rows, total = q.list_dags(session, p, dag_id_pattern=dag_id_pattern, tags=tags, paused=paused,
                                  only_active=only_active)
        return r.DAGCollection(dags=[dag_response(d, q.read_serialized(session, d.dag_id)) for d in rows],
                               total_entries=total)


@router.get("/dags/{dag_id}", response_model=r.DAG, dependencies=[viewer])
def get_dag(request: Request, dag_id: str) -> r.DAG:
    with db(request) as session:
        dag = q.read_dag(session, dag_id)
        if dag is None:
            raise not_found(f"DAG {dag_id!r}")
        return dag_response(dag, q.read_serialized(session, dag_id))


@router.get("/dags/{dag_id}/details", response_model=r.DAGDetail, dependencies=[viewer])
def get_dag_details(request: Request, dag_id: str) -> r.DAG:
    with db(request) as session:
        dag = q.read_dag(session, dag_id)
        if dag is None:
            raise not_found(f"DAG {dag_id!r}")
        return dag_response(dag, q.read_serialized(session, dag_id), detail=True)


@router.patch("/dags/{dag_id}", response_model=r.DAG, dependencies=[user])
def patch_dag(request: Request, dag_id: str, body: actions.DAGPatch,
              update_mask: Annotated[list[str] | None, Query()] = None) -> r.DAG:
    with db(request) as session:
        if not model_queries.set_dag_paused(session, dag_id, body.is_paused):
            raise not_found(f"DAG {dag_id!r}")
        dag = q.read_dag(session, dag_id)
        assert dag is not None
        return dag_response(dag, q.read_serialized(session, dag_id))


@router.delete("/dags/{dag_id}", status_code=204, dependencies=[Depends(require(RoleName.OP))])
def delete_dag(request: Request, dag_id: str) -> None:
    with db(request) as session:
        if q.read_dag(session, dag_id) is None:
            raise not_found(f"DAG {dag_id!r}")
        model_queries.delete_dag(session, dag_id)


@router.get("/dags/{dag_id}/tasks", response_model=r.TaskCollection, dependencies=[viewer])
def get_tasks(request: Request, dag_id: str) -> r.TaskCollection:
    with db(request) as session:
        data = q.read_serialized(session, dag_id)
    if data is None:
        raise not_found(f"DAG {dag_id!r}")
    tasks = [task_response(t) for t in data["tasks"]]
    return r.TaskCollection(tasks=tasks, total_entries=len(tasks))


@router.get("/dags/{dag_id}/tasks/{task_id}", response_model=r.Task, dependencies=[viewer])
def get_task(request: Request, dag_id: str, task_id: str) -> r.Task:
    with db(request) as session:
        data = q.read_serialized(session, dag_id)
    task = next((t for t in (data or {}).get("tasks", []) if t["task_id"] == task_id), None)
    if task is None:
        raise not_found(f"task {task_id!r} of DAG {dag_id!r}")
    return task_response(task)


@router.get("/dagSources/{file_token}", response_model=r.DAGSource, dependencies=[viewer])
def get_dag_source(request: Request, file_token: str) -> r.DAGSource:
    with db(request) as session:
        code = q.read_source(session, file_token)
    if code is None:
        raise not_found("DAG source")
    return r.DAGSource(content=code.source, fileloc=code.fileloc)
