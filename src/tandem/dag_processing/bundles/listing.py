"""Bundles and their versions as listings show them (CLI, API, UI)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import DagBundle, DagBundleVersion, DagRun, SerializedDagModel


def short_version(version: str | None) -> str:
    """The first 12 characters, as git shows commits; enough to tell versions apart."""
    return (version or "")[:12]


def list_bundles(session: Session) -> list[dict[str, Any]]:
    """Every bundle seen: kind, latest version, stored versions, DAGs and unfinished runs on it."""
    versions = dict(session.execute(
        sa.select(DagBundleVersion.bundle_name, sa.func.count()).group_by(DagBundleVersion.bundle_name)).all())
    dags = dict(session.execute(
        sa.select(SerializedDagModel.bundle_name, sa.func.count()).group_by(SerializedDagModel.bundle_name)).all())
    rows = []
    for bundle in session.execute(sa.select(DagBundle).order_by(DagBundle.name)).scalars():
        rows.append({
            "name": bundle.name, "kind": bundle.kind, "latest_version": bundle.latest_version,
            "refreshed_at": bundle.refreshed_at, "stored_versions": versions.get(bundle.name, 0),
            "dags": dags.get(bundle.name, 0), "parsed_by": bundle.lease_owner,
        })
    return rows


def list_versions(session: Session, bundle_name: str) -> list[dict[str, Any]]:
    """Stored versions of one bundle, newest first, with their file counts and the runs using them."""
    runs = dict(session.execute(
        sa.select(DagRun.bundle_version, sa.func.count()).where(DagRun.bundle_name == bundle_name)
        .group_by(DagRun.bundle_version)).all())
    rows = session.execute(
        sa.select(DagBundleVersion.version, DagBundleVersion.created_at, DagBundleVersion.manifest)
        .where(DagBundleVersion.bundle_name == bundle_name).order_by(DagBundleVersion.created_at.desc())
    ).all()
    return [{"version": r.version, "created_at": r.created_at, "files": len(r.manifest or {}),
             "runs": runs.get(r.version, 0)} for r in rows]
