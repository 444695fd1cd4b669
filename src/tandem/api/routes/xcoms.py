"""XCom entries of a task instance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import not_found
from tandem.api.queries import runs as run_queries
from tandem.api.queries import task_instances as q
from tandem.api.routes.task_instances import TI_PATH, MapIndex
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import Page, page
from tandem.models import XCom
from tandem.secrets_masker import SecretsMasker, masker_from_db

router = APIRouter(tags=["XCom"], dependencies=[Depends(require(RoleName.VIEWER))])


def xcom_response(x: XCom, logical_date: object, *, masker: SecretsMasker | None = None) -> r.XCom:
    """An XCom entry; with a ``masker`` its value too, secrets shown as ``***``."""
    return r.XCom(key=x.key, timestamp=x.timestamp, execution_date=logical_date, map_index=x.map_index,
                  task_id=x.task_id, dag_id=x.dag_id, dag_run_id=x.run_id,
                  value=masker.redact(x.value, x.key) if masker is not None else None)


@router.get(TI_PATH + "/xcomEntries", response_model=r.XComCollection)
def get_xcom_entries(request: Request, dag_id: str, dag_run_id: str, task_id: str,
                     p: Annotated[Page, Depends(page)], map_index: MapIndex | None = None) -> r.XComCollection:
    with db(request) as session:
        run = run_queries.read_run(session, dag_id, dag_run_id)
        if run is None:
            raise not_found(f"DAG run {dag_run_id!r} of DAG {dag_id!r}")
        rows, total = q.list_xcoms(session, p, dag_id, dag_run_id, task_id, map_index)
        return r.XComCollection(xcom_entries=[xcom_response(x, run.logical_date) for x in rows],
                                total_entries=total)


@router.get(TI_PATH + "/xcomEntries/{xcom_key}", response_model=r.XCom)
def get_xcom_entry(request: Request, dag_id: str, dag_run_id: str, task_id: str,
                   xcom_key: Annotated[str, Path(max_length=100)], map_index: MapIndex = -1) -> r.XCom:
    with db(request) as session:
        run = run_queries.read_run(session, dag_id, dag_run_id)
        row = q.read_xcom(session, dag_id, dag_run_id, task_id, xcom_key, map_index) if run else None
        if run is None or row is None:
            raise not_found(f"XCom {xcom_key!r} of task instance {task_id!r}")
        return xcom_response(row, run.logical_date, masker=masker_from_db(session))
