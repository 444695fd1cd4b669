"""``/backfills``: create (or preview with ``dry_run``), list, get, pause, unpause, cancel.

Creating and changing a backfill needs the op role, as in Airflow where it is a DAG-run
creation over many dates; reading needs viewer. Every write lands in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import ApiError, not_found
from tandem.api.schemas import backfills as b
from tandem.api.schemas.filters import MAX_INT, Page, page
from tandem.backfill import (
    BackfillError,
    BackfillRequest,
    ReprocessBehavior,
    cancel_backfill,
    create_backfill,
    plan_backfill,
    set_backfill_paused,
)
from tandem.backfill.progress import Progress, backfill_state, list_backfills, read_progress
from tandem.models import Backfill

router = APIRouter(tags=["Backfill"])
viewer = Depends(require(RoleName.VIEWER))
Op = Annotated[Identity, Depends(require(RoleName.OP))]
BackfillId = Annotated[int, Path(ge=1, le=MAX_INT)]
T = TypeVar("T")


def backfill_response(backfill: Backfill, progress: Progress) -> b.BackfillResponse:
    states = progress.states
    return b.BackfillResponse(
        id=backfill.id, dag_id=backfill.dag_id, from_date=backfill.from_date, to_date=backfill.to_date,
        dag_run_conf=backfill.dag_run_conf or {}, is_paused=backfill.is_paused,
        reprocess_behavior=backfill.reprocess_behavior, max_active_runs=backfill.max_active_runs,
        run_backwards=backfill.run_backwards, created_at=backfill.created_at, completed_at=backfill.completed_at,
        updated_at=backfill.updated_at, triggering_user_name=backfill.triggering_user_name,
        state=backfill_state(backfill),
        progress=b.BackfillProgress(queued=states.get("queued", 0), running=states.get("running", 0),
                                    success=states.get("success", 0), failed=states.get("failed", 0),
                                    total=progress.total, skipped=progress.skipped),
    )


def _guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except BackfillError as e:
        raise ApiError(e.status, str(e)) from None


def _request(body: b.BackfillPostBody, who: Identity) -> BackfillRequest:
    return BackfillRequest(dag_id=body.dag_id, from_date=body.from_date, to_date=body.to_date,
                           max_active_runs=body.max_active_runs,
                           reprocess_behavior=ReprocessBehavior(body.reprocess_behavior),
                           run_backwards=body.run_backwards, dag_run_conf=body.dag_run_conf,
                           triggering_user_name=who.username)


def _dry_run(request: Request, body: b.BackfillPostBody, who: Identity) -> b.DryRunBackfillCollectionResponse:
    with db(request) as session:
        plan = _guarded(lambda: plan_backfill(session, _request(body, who)))
    runs = [b.DryRunBackfillResponse(logical_date=p.logical_date, data_interval_start=p.data_interval_start,
                                     data_interval_end=p.data_interval_end, action=p.action,
                                     existing_run_id=p.run_id) for p in plan if p.action != "skip"]
    skipped = [b.SkippedDate(logical_date=p.logical_date, reason=p.reason or "", existing_run_id=p.run_id)
               for p in plan if p.action == "skip"]
    return b.DryRunBackfillCollectionResponse(backfills=runs, total_entries=len(runs), skipped=skipped)


@router.post("/backfills", response_model=b.BackfillResponse | b.DryRunBackfillCollectionResponse)
def post_backfill(request: Request, body: b.BackfillPostBody,
                  who: Op) -> b.BackfillResponse | b.DryRunBackfillCollectionResponse:
    """Create a backfill; with ``dry_run`` only list the runs it would make."""
    if body.dry_run:
        return _dry_run(request, body, who)
    with db(request) as session:
        backfill = _guarded(lambda: create_backfill(session, _request(body, who)))
        return backfill_response(backfill, read_progress(session, [backfill.id])[backfill.id])


@router.post("/backfills/dry_run", response_model=b.DryRunBackfillCollectionResponse)
def post_backfill_dry_run(request: Request, body: b.BackfillPostBody, who: Op) -> b.DryRunBackfillCollectionResponse:
    """The runs a backfill would make, in start order, and the dates it would leave alone."""
    return _dry_run(request, body, who)


@router.get("/backfills", response_model=b.BackfillCollectionResponse, dependencies=[viewer])
def get_backfills(request: Request, p: Annotated[Page, Depends(page)],
                  dag_id: Annotated[str | None, Query(max_length=200)] = None,
                  active: bool | None = None) -> b.BackfillCollectionResponse:
    with db(request) as session:
        rows, total = list_backfills(session, dag_id=dag_id, active=active, limit=p.limit, offset=p.offset)
        progress = read_progress(session, [r.id for r in rows])
        return b.BackfillCollectionResponse(backfills=[backfill_response(r, progress[r.id]) for r in rows],
                                            total_entries=total)


@router.get("/backfills/{backfill_id}", response_model=b.BackfillResponse, dependencies=[viewer])
def get_backfill(request: Request, backfill_id: BackfillId) -> b.BackfillResponse:
    with db(request) as session:
        backfill = session.get(Backfill, backfill_id)
        if backfill is None:
            raise not_found(f"backfill {backfill_id}")
        return backfill_response(backfill, read_progress(session, [backfill_id])[backfill_id])


def _change(request: Request, backfill_id: int, action: Callable[..., Backfill]) -> b.BackfillResponse:
    with db(request) as session:
        backfill = _guarded(lambda: action(session, backfill_id))
        session.flush()
        return backfill_response(backfill, read_progress(session, [backfill_id])[backfill_id])


@router.put("/backfills/{backfill_id}/pause", response_model=b.BackfillResponse)
def pause_backfill(request: Request, backfill_id: BackfillId, who: Op) -> b.BackfillResponse:
    """Start no more of its runs (those running finish)."""
    return _change(request, backfill_id, lambda s, i: set_backfill_paused(s, i, True))


@router.put("/backfills/{backfill_id}/unpause", response_model=b.BackfillResponse)
def unpause_backfill(request: Request, backfill_id: BackfillId, who: Op) -> b.BackfillResponse:
    return _change(request, backfill_id, lambda s, i: set_backfill_paused(s, i, False))


@router.put("/backfills/{backfill_id}/cancel", response_model=b.BackfillResponse)
def cancel(request: Request, backfill_id: BackfillId, who: Op) -> b.BackfillResponse:
    """Fail its queued runs and start no more; running runs finish."""
    return _change(request, backfill_id, cancel_backfill)
