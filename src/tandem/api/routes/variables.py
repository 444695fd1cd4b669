"""``/variables``: op and above (values can be secrets)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import ApiError, not_found
from tandem.api.queries import secrets as q
from tandem.api.schemas import actions
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import Page, page
from tandem.models import Variable
from tandem.models import queries as model_queries

router = APIRouter(tags=["Variable"], dependencies=[Depends(require(RoleName.OP))])
Key = Annotated[str, Path(max_length=250)]


def variable_response(row: Variable, value: str) -> r.Variable:
    return r.Variable(key=row.key, value=value, description=row.description)


@router.get("/variables", response_model=r.VariableCollection)
def get_variables(request: Request, p: Annotated[Page, Depends(page)]) -> r.VariableCollection:
    with db(request) as session:
        rows, total = q.list_variables(session, p)
        return r.VariableCollection(variables=[variable_response(v, val) for v, val in rows], total_entries=total)


@router.post("/variables", response_model=r.Variable)
def post_variable(request: Request, body: actions.VariableBody) -> r.Variable:
    with db(request) as session:
        if q.read_variable(session, body.key) is not None:
            raise ApiError(409, f"variable {body.key!r} already exists")
        return variable_response(*q.write_variable(session, body.key, body.value, body.description))


@router.get("/variables/{variable_key}", response_model=r.Variable)
def get_variable(request: Request, variable_key: Key) -> r.Variable:
    with db(request) as session:
        found = q.read_variable(session, variable_key)
        if found is None:
            raise not_found(f"variable {variable_key!r}")
        return variable_response(*found)


@router.patch("/variables/{variable_key}", response_model=r.Variable)
def patch_variable(request: Request, variable_key: Key, body: actions.VariablePatch) -> r.Variable:
    if body.key is not None and body.key != variable_key:
        raise ApiError(400, "the key in the body differs from the key in the path")
    with db(request) as session:
        found = q.read_variable(session, variable_key)
        if found is None:
            raise not_found(f"variable {variable_key!r}")
        value = body.value if body.value is not None else found[1]
        return variable_response(*q.write_variable(session, variable_key, value, body.description))


@router.delete("/variables/{variable_key}", status_code=204)
def delete_variable(request: Request, variable_key: Key) -> None:
    with db(request) as session:
        if not model_queries.delete_variable(session, variable_key):
            raise not_found(f"variable {variable_key!r}")
