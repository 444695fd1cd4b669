"""``/variables/export|import``, ``/connections/export|import``, ``/pools/export|import``.

Exports are JSON files in Airflow's formats (see :mod:`tandem.api.queries.transfer`). Secrets
are in clear only for admins; op gets ``***`` in their place; each export of variables or
connections is recorded in the audit log. An import takes the file as the
request body, checks all of it first and changes nothing when any entry is bad (400 naming
them). Registered before the ``/{key}`` routes, which would otherwise take ``export`` for a key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName, role_allows
from tandem.api.deps import db, require
from tandem.api.errors import ApiError
from tandem.api.queries import transfer as q
from tandem.crypto import FernetKeyMissing

router = APIRouter(tags=["Import and export"])
MAX_FILE_BYTES = 20 * 1024 * 1024
Op = Annotated[Identity, Depends(require(RoleName.OP))]
OnExisting = Annotated[str, Query(pattern="^(overwrite|skip|fail)$",
                                  description="What to do with an entry that exists: overwrite, skip or fail.")]


def _record_export(request: Request, who: Identity, what: str, reveal: bool) -> None:
    """A file of secrets leaving the system is worth a line in the audit log, though it changes nothing."""
    from tandem.audit import record

    client = request.client.host if request.client else ""
    record(request.app.state.engine, username=who.username, via="ui" if who.via == "session" else "api",
           client=client, action=f"GET {request.url.path}"[:100], target=request.url.path, status=200,
           details={"entries": what, "secrets": "in clear" if reveal else "masked"})


def _download(data: dict[str, Any], name: str) -> Response:
    return Response(json.dumps(data, indent=2, sort_keys=True) + "\n", media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}.json"',
                             "Cache-Control": "no-store"})


async def _import(request: Request, what: str, on_existing: str,
                  writer: Callable[[Session, dict[str, Any], str], q.ImportResult]) -> dict[str, int]:
    body = await request.body()
    if len(body) > MAX_FILE_BYTES:
        raise ApiError(413, f"the {what} file is {len(body)} bytes; at most {MAX_FILE_BYTES} are accepted")

    def run() -> dict[str, int]:
        try:
            data = q.parse_file(body, what)
            with db(request) as session:
                result = writer(session, data, on_existing)
        except q.ImportRejected as e:
            raise ApiError(400, str(e)) from None
        except FernetKeyMissing:
            raise ApiError(400, "core.fernet_key is not set on this server, so secrets cannot be stored") from None
        return {"created": result.created, "updated": result.updated, "skipped": result.skipped}

    return await run_in_threadpool(run)


@router.get("/variables/export", summary="Export variables as a JSON file")
def export_variables(request: Request, who: Op) -> Response:
    reveal = role_allows(who.role, RoleName.ADMIN)
    with db(request) as session:
        data = q.export_variables(session, reveal=reveal)
    _record_export(request, who, "variables", reveal)
    return _download(data, "variables")


@router.post("/variables/import", summary="Import variables from a JSON file (the request body)")
async def import_variables(request: Request, who: Op, on_existing: OnExisting = "overwrite") -> dict[str, int]:
    return await _import(request, "variables", on_existing, q.import_variables)


@router.get("/connections/export", summary="Export connections as a JSON file")
def export_connections(request: Request, who: Op) -> Response:
    reveal = role_allows(who.role, RoleName.ADMIN)
    with db(request) as session:
        data = q.export_connections(session, reveal=reveal)
    _record_export(request, who, "connections", reveal)
    return _download(data, "connections")


@router.post("/connections/import", summary="Import connections from a JSON file (the request body)")
async def import_connections(request: Request, who: Op, on_existing: OnExisting = "overwrite") -> dict[str, int]:
    return await _import(request, "connections", on_existing, q.import_connections)


@router.get("/pools/export", summary="Export pools as a JSON file",
            dependencies=[Depends(require(RoleName.VIEWER))])
def export_pools(request: Request) -> Response:
    with db(request) as session:
        data = q.export_pools(session)
    return _download(data, "pools")


@router.post("/pools/import", summary="Import pools from a JSON file (the request body)")
async def import_pools(request: Request, who: Op, on_existing: OnExisting = "overwrite") -> dict[str, int]:
    return await _import(request, "pools", on_existing, q.import_pools)
