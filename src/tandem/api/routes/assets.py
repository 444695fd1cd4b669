"""``/assets`` and ``/assets/events``: what the asset pages show, for any role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import not_found
from tandem.api.queries import assets as q
from tandem.api.schemas import asset_responses as r
from tandem.api.schemas.filters import Page, page
from tandem.models.asset import URI_LEN
from tandem.secrets_masker import masker_from_db

router = APIRouter(tags=["Asset"], dependencies=[Depends(require(RoleName.VIEWER))])
Uri = Annotated[str, Query(min_length=1, max_length=URI_LEN)]


@router.get("/assets", response_model=r.AssetCollection)
def get_assets(request: Request, p: Annotated[Page, Depends(page)],
               uri_pattern: Annotated[str, Query(max_length=URI_LEN)] = "") -> r.AssetCollection:
    with db(request) as session:
        rows = q.list_assets(session, uri_pattern)
    return r.AssetCollection(total_entries=len(rows), assets=[
        r.Asset(uri=a.uri, event_count=a.events, last_event_at=a.last_event.timestamp if a.last_event else None,
                producing_dags=sorted(a.producers), consuming_dags=sorted(a.consumers))
        for a in rows[p.offset:p.offset + p.limit]])


@router.get("/assets/events", response_model=r.AssetEventCollection)
def get_asset_events(request: Request, uri: Uri,
                     page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1) -> r.AssetEventCollection:
    """One asset's events, newest first, ``EVENTS_PER_PAGE`` a page, each with the runs it triggered."""
    with db(request) as session:
        found = q.read_asset(session, uri, page_number)
        if found is None:
            raise not_found(f"asset {uri!r}")
        _, events, total = found
        masker = masker_from_db(session)
        return r.AssetEventCollection(total_entries=total, asset_events=[
            r.AssetEvent(id=e.event.id, uri=e.event.uri, extra=masker.redact(q.event_extra(e.event)),
                         source_dag_id=e.event.source_dag_id, source_run_id=e.event.source_run_id,
                         source_task_id=e.event.source_task_id, source_map_index=e.event.source_map_index,
                         timestamp=e.event.timestamp,
                         created_dagruns=[r.DagRunRef(dag_id=x.dag_id, dag_run_id=x.run_id, state=x.state)
                                          for x in e.triggered])
            for e in events])
