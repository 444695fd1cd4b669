"""Assets: the list (last event, producing and consuming DAGs) and one asset's events, each linked
to the run that produced it and the runs it triggered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db
from tandem.api.errors import not_found
from tandem.api.queries import assets as q
from tandem.api.ui.access import page_for
from tandem.api.ui.render import render
from tandem.models.asset import URI_LEN
from tandem.secrets_masker import masker_from_db

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Identity, Depends(page_for(RoleName.VIEWER))]


@router.get("/assets")
def assets(request: Request, who: Viewer, search: Annotated[str, Query(max_length=URI_LEN)] = "") -> Response:
    with db(request) as session:
        rows = q.list_assets(session, search.strip())
    return render(request, "assets.html", who, assets=rows, search=search)


@router.get("/assets/detail")
def asset(request: Request, who: Viewer, uri: Annotated[str, Query(max_length=URI_LEN)],
          page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    with db(request) as session:
        found = q.read_asset(session, uri, page)
        if found is None:
            raise not_found(f"asset {uri!r}")
        summary, events, total = found
        masker = masker_from_db(session)
        extras = {row.event.id: masker.redact(q.event_extra(row.event)) for row in events}
    return render(request, "asset.html", who, asset=summary, events=events, extras=extras, total=total, page=page,
                  pages=max(1, -(-total // q.EVENTS_PER_PAGE)))
