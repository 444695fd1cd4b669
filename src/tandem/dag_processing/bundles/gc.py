"""Garbage collection of bundle versions and of file contents no version references.

A version is kept while it is a bundle's latest, while a serialized DAG was parsed from it (new
runs of that DAG would record it), while an unfinished run (queued or running) records it, or
while it is younger than ``version_retention``. Finished runs keep their version id for display
after its files are gone; clearing such a run makes its tries fail naming the missing version
(as Airflow 3 does for a bundle version it cannot get back), unless ``disable_bundle_versioning``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tandem.dag_processing.bundles.storage import lock_contents
from tandem.models import BundleFileContent, DagBundle, DagBundleVersion, DagRun, SerializedDagModel
from tandem.state import DagRunState

_UNFINISHED = (DagRunState.QUEUED.value, DagRunState.RUNNING.value)


@dataclass
class GcStats:
    versions: int = 0
    contents: int = 0


def live_versions(session: Session) -> dict[str, set[str]]:
    """{bundle: versions} that must be kept whatever their age."""
    live: dict[str, set[str]] = {}
    queries = [
        sa.select(DagBundle.name, DagBundle.latest_version),
        sa.select(SerializedDagModel.bundle_name, SerializedDagModel.bundle_version).distinct(),
        sa.select(DagRun.bundle_name, DagRun.bundle_version).where(DagRun.state.in_(_UNFINISHED)).distinct(),
    ]
    for query in queries:
        for name, version in session.execute(query):
            if name and version:
                live.setdefault(name, set()).add(version)
    return live


def collect_garbage(session: Session, now: datetime, retention: float) -> GcStats:
    """Delete unneeded versions older than ``retention`` seconds, then unreferenced contents."""
    stats = GcStats()
    lock_contents(session)
    live = live_versions(session)
    cutoff = now - timedelta(seconds=retention)
    old = session.execute(
        sa.select(DagBundleVersion.bundle_name, DagBundleVersion.version).where(DagBundleVersion.created_at < cutoff)
    ).all()
    doomed = [(b, v) for b, v in old if v not in live.get(b, set())]
    for bundle_name, version in doomed:
        session.execute(sa.delete(DagBundleVersion).where(
            DagBundleVersion.bundle_name == bundle_name, DagBundleVersion.version == version))
    stats.versions = len(doomed)
    if not doomed:
        return stats
    referenced: set[str] = set()
    for (manifest,) in session.execute(sa.select(DagBundleVersion.manifest)):
        referenced.update((manifest or {}).values())
    stored = session.execute(sa.select(BundleFileContent.content_hash)).scalars().all()
    unreferenced = sorted(set(stored) - referenced)
    for start in range(0, len(unreferenced), 500):
        session.execute(sa.delete(BundleFileContent).where(
            BundleFileContent.content_hash.in_(unreferenced[start:start + 500])))
    stats.contents = len(unreferenced)
    return stats


def stored_versions(session: Session) -> dict[str, set[str]]:
    """{bundle: versions} still stored: what a runner's cache may keep."""
    kept: dict[str, set[str]] = {}
    for name, version in session.execute(sa.select(DagBundleVersion.bundle_name, DagBundleVersion.version)):
        kept.setdefault(name, set()).add(version)
    return kept


def prune_local_cache(cache_root: Path, engine: Engine | None = None) -> int:
    """Remove this node's cached versions that are no longer stored; the number removed."""
    from tandem.dag_processing.bundles.cache import prune
    from tandem.db.session import session_scope

    with session_scope(engine) as session:
        kept = stored_versions(session)
    return len(prune(cache_root, kept))
