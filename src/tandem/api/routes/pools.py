"""``/pools``: anyone may read them; op and above change them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import ApiError, not_found
from tandem.api.schemas import actions
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import Page, page
from tandem.models import queries as model_queries

router = APIRouter(tags=["Pool"])
viewer = Depends(require(RoleName.VIEWER))
op = Depends(require(RoleName.OP))
PoolName = Annotated[str, Path(max_length=256)]


def pool_response(row: dict[str, Any]) -> r.Pool:
    return r.Pool(name=row["name"], slots=row["slots"], occupied_slots=row["occupied"],
                  running_slots=row.get("running", 0), queued_slots=row.get("queued", 0),
                  open_slots=row["open"], description=row["description"])


def _one(session: Any, name: str) -> dict[str, Any]:
    row = next((x for x in model_queries.list_pools(session) if x["name"] == name), None)
    if row is None:
        raise not_found(f"pool {name!r}")
    return row


@router.get("/pools", response_model=r.PoolCollection, dependencies=[viewer])
def get_pools(request: Request, p: Annotated[Page, Depends(page)]) -> r.PoolCollection:
    if p.order_by not in (None, "name", "-name"):
        raise ApiError(400, f"Ordering with {p.order_by!r} is disallowed; use name or -name")
    with db(request) as session:
        rows = model_queries.list_pools(session)
    rows.sort(key=lambda x: x["name"], reverse=p.order_by == "-name")
    return r.PoolCollection(pools=[pool_response(x) for x in rows[p.offset:p.offset + p.limit]],
                            total_entries=len(rows))


@router.get("/pools/{pool_name}", response_model=r.Pool, dependencies=[viewer])
def get_pool(request: Request, pool_name: PoolName) -> r.Pool:
    with db(request) as session:
        return pool_response(_one(session, pool_name))


@router.post("/pools", response_model=r.Pool, dependencies=[op])
def post_pool(request: Request, body: actions.PoolBody) -> r.Pool:
    with db(request) as session:
        if any(x["name"] == body.name for x in model_queries.list_pools(session)):
            raise ApiError(409, f"pool {body.name!r} already exists")
        model_queries.set_pool(session, body.name, body.slots, body.description)
        return pool_response(_one(session, body.name))


@router.patch("/pools/{pool_name}", response_model=r.Pool, dependencies=[op])
def patch_pool(request: Request, pool_name: PoolName, body: actions.PoolPatch) -> r.Pool:
    with db(request) as session:
        current = _one(session, pool_name)
        slots = body.slots if body.slots is not None else current["slots"]
        description = body.description if "description" in body.model_fields_set else current["description"]
        model_queries.set_pool(session, pool_name, slots, description)
        return pool_response(_one(session, pool_name))


@router.delete("/pools/{pool_name}", status_code=204, dependencies=[op])
def delete_pool(request: Request, pool_name: PoolName) -> None:
    with db(request) as session:
        if not model_queries.delete_pool(session, pool_name):
            raise not_found(f"pool {pool_name!r}")
