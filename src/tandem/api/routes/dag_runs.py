"""``/dags/{dag_id}/dagRuns``: list, get, trigger, mark, clear, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import not_found
from tandem.api.queries import runs as q
from tandem.api.routes.task_instances import ti_response
from tandem.api.schemas import actions
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import DateFilter, Page, page
from tandem.models import DagRun, TaskInstance
from tandem.orchestration import TiKey
from tandem.orchestration.actions import clear_task_instances, set_dag_run_state
from tandem.orchestration.selection import run_mark_targets
from tandem.scheduler.dagruns import trigger_dag_run
from tandem.secrets_masker import masker_from_db
from tandem.state import DagRunState

router = APIRouter(tags=["DAGRun"])
viewer = Depends(require(RoleName.VIEWER))


def run_response(run: DagRun) -> r.DAGRun:
    return r.DAGRun(
        dag_run_id=run.run_id, dag_id=run.dag_id, logical_date=run.logical_date, execution_date=run.logical_date,
        start_date=run.start_date, end_date=run.end_date, data_interval_start=run.data_interval_start,
        data_interval_end=run.data_interval_end, last_scheduling_decision=run.last_scheduling_decision,
        queued_at=run.queued_at, run_type=run.run_type, state=run.state,
        external_trigger=run.run_type == "manual", triggered_by=run.triggered_by or "", conf=run.conf or {},
        scheduling_error=run.scheduling_error, bundle_version=run.bundle_version,
    )


def _ti_collection(session: Any, run: DagRun, keys: list[TiKey]) -> r.TaskInstanceCollection:
    tis = [session.get(TaskInstance, tuple(k)) for k in keys]
    masker = masker_from_db(session)
    items = [ti_response(ti, run.logical_date, masker) for ti in tis if ti is not None]
    return r.TaskInstanceCollection(task_instances=items, total_entries=len(items))


def _read(session: object, dag_id: str, run_id: str) -> DagRun:
    run = q.read_run(session, dag_id, run_id)  # type: ignore[arg-type]
    if run is None:
        raise not_found(f"DAG run {run_id!r} of DAG {dag_id!r}")
    return run


@router.get("/dags/{dag_id}/dagRuns", response_model=r.DAGRunCollection, dependencies=[viewer])
def get_dag_runs(
    request: Request, dag_id: str, p: Annotated[Page, Depends(page)],
    state: Annotated[list[str] | None, Query()] = None,
    run_type: Annotated[list[str] | None, Query()] = None,
    execution_date_gte: DateFilter = None, execution_date_lte: DateFilter = None,
    logical_date_gte: DateFilter = None, logical_date_lte: DateFilter = None,
    start_date_gte: DateFilter = None, start_date_lte: DateFilter = None,
    end_date_gte: DateFilter = None, end_date_lte: DateFilter = None,
) -> r.DAGRunCollection:
    """``dag_id`` ``~`` lists the runs of every DAG, as in Airflow."""
    with db(request) as session:
        rows, total = q.list_runs(
            session, p, dag_id=None if dag_id == "~" else dag_id, states=state, run_type=run_type,
            logical_date_gte=logical_date_gte or execution_date_gte,
            logical_date_lte=logical_date_lte or execution_date_lte,
            start_date_gte=start_date_gte, start_date_lte=start_date_lte,
            end_date_gte=end_date_gte, end_date_lte=end_date_lte,
        )
        return r.DAGRunCollection(dag_runs=[run_response(x) for x in rows], total_entries=total)


@router.post("/dags/{dag_id}/dagRuns", response_model=r.DAGRun, status_code=200)
def post_dag_run(request: Request, dag_id: str, body: actions.DAGRunTrigger,
                 who: Annotated[Identity, Depends(require(RoleName.USER))]) -> r.DAGRun:
    with db(request) as session:
        run = trigger_dag_run(session, request.app.state.dag_cache, dag_id, run_id=body.dag_run_id, conf=body.conf,
                              logical_date=body.logical_date, triggered_by="ui" if who.via == "session" else "rest_api")
        return run_response(run)


@router.get("/dags/{dag_id}/dagRuns/{dag_run_id}", response_model=r.DAGRun, dependencies=[viewer])
def get_dag_run(request: Request, dag_id: str, dag_run_id: str) -> r.DAGRun:
    with db(request) as session:
        return run_response(_read(session, dag_id, dag_run_id))


@router.delete("/dags/{dag_id}/dagRuns/{dag_run_id}", status_code=204,
               dependencies=[Depends(require(RoleName.USER))])
def delete_dag_run(request: Request, dag_id: str, dag_run_id: str) -> None:
    with db(request) as session:
        if not q.delete_run(session, dag_id, dag_run_id):
            raise not_found(f"DAG run {dag_run_id!r} of DAG {dag_id!r}")


@router.patch("/dags/{dag_id}/dagRuns/{dag_run_id}", response_model=r.DAGRun | r.TaskInstanceCollection,
              dependencies=[Depends(require(RoleName.USER))])
def patch_dag_run_state(request: Request, dag_id: str, dag_run_id: str,
                        body: actions.DAGRunStatePatch) -> r.DAGRun | r.TaskInstanceCollection:
    """Mark a run success or failed; ``queued`` clears every task so the run starts over.

    With ``dry_run``, answer the task instances the change would touch, and change nothing.
    """
    with db(request) as session:
        run = _read(session, dag_id, dag_run_id)
        if body.dry_run:
            keys = (clear_task_instances(session, dag_id, run_ids=[dag_run_id], dry_run=True) if body.state == "queued"
                    else run_mark_targets(session, dag_id, dag_run_id, DagRunState(body.state)))
            return _ti_collection(session, run, keys)
        if body.state == "queued":
            clear_task_instances(session, dag_id, run_ids=[dag_run_id])
        else:
            set_dag_run_state(session, dag_id, dag_run_id, DagRunState(body.state))
        session.expire_all()
        return run_response(_read(session, dag_id, dag_run_id))


@router.post("/dags/{dag_id}/dagRuns/{dag_run_id}/clear", response_model=r.DAGRun | r.TaskInstanceCollection,
             dependencies=[Depends(require(RoleName.USER))])
def clear_dag_run(request: Request, dag_id: str, dag_run_id: str,
                  body: actions.DAGRunClear) -> r.DAGRun | r.TaskInstanceCollection:
    """With ``dry_run`` (the default, as in Airflow), list what would be cleared."""
    with db(request) as session:
        run = _read(session, dag_id, dag_run_id)
        keys = clear_task_instances(session, dag_id, run_ids=[dag_run_id], only_failed=body.only_failed,
                                    dry_run=body.dry_run)
        if body.dry_run:
            return _ti_collection(session, run, keys)
        session.expire_all()
        return run_response(_read(session, dag_id, dag_run_id))

