"""``/dagBundles``: DAG bundles and their stored versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from tandem.api.auth.roles import RoleName
from tandem.api.deps import db, require
from tandem.api.errors import not_found
from tandem.api.schemas import responses as r
from tandem.api.schemas.filters import Page, page
from tandem.dag_processing.bundles.listing import list_bundles, list_versions

router = APIRouter(tags=["DagBundle"])
viewer = Depends(require(RoleName.VIEWER))
BundleName = Annotated[str, Path(max_length=64)]


@router.get("/dagBundles", response_model=r.DagBundleCollection, dependencies=[viewer])
def get_dag_bundles(request: Request, p: Annotated[Page, Depends(page)]) -> r.DagBundleCollection:
    with db(request) as session:
        rows = list_bundles(session)
    return r.DagBundleCollection(dag_bundles=[r.DagBundle(**x) for x in rows[p.offset:p.offset + p.limit]],
                                 total_entries=len(rows))


@router.get("/dagBundles/{bundle_name}/versions", response_model=r.DagBundleVersionCollection,
            dependencies=[viewer])
def get_dag_bundle_versions(request: Request, bundle_name: BundleName,
                            p: Annotated[Page, Depends(page)]) -> r.DagBundleVersionCollection:
    with db(request) as session:
        if not any(b["name"] == bundle_name for b in list_bundles(session)):
            raise not_found(f"DAG bundle {bundle_name!r}")
        rows = list_versions(session, bundle_name)
    return r.DagBundleVersionCollection(
        versions=[r.DagBundleVersion(**x) for x in rows[p.offset:p.offset + p.limit]], total_entries=len(rows))
