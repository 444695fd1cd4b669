"""Bundle versions in the metadata DB: manifests by version, file contents by hash.

Writers of new versions and the garbage collector serialize on the ``bundle_content`` lock row,
so a collection never deletes a content row that a version being stored has just found present.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.dag_processing.bundles.base import BaseDagBundle, BundleError, Snapshot, content_hash
from tandem.db.dialects import dialect_of
from tandem.models import Base, BundleFileContent, DagBundle, DagBundleVersion, Lock

CONTENT_LOCK = "bundle_content"
_content = Base.metadata.tables[BundleFileContent.__tablename__]
_version = Base.metadata.tables[DagBundleVersion.__tablename__]
_bundle = Base.metadata.tables[DagBundle.__tablename__]
_lock = Base.metadata.tables[Lock.__tablename__]
# Rows per INSERT of contents: keeps one statement's size reasonable for files of any size.
_CHUNK = 50


class BundleVersionMissing(LookupError):
    """A run's bundle version is not stored (garbage-collected, or never stored)."""


@dataclass(frozen=True)
class StoredVersion:
    bundle_name: str
    version: str
    manifest: dict[str, str]


def lock_contents(session: Session) -> None:
    """Take the lock row that serializes version writers and the garbage collector."""
    dialect = dialect_of(session)
    session.execute(dialect.insert_ignore(_lock, [{"name": CONTENT_LOCK}]))
    session.execute(dialect.lock(sa.select(_lock.c.name).where(_lock.c.name == CONTENT_LOCK)))


def ensure_bundle(session: Session, bundle: BaseDagBundle) -> None:
    session.execute(dialect_of(session).insert_ignore(_bundle, [{"name": bundle.name, "kind": bundle.describe()}]))


def store_snapshot(session: Session, bundle: BaseDagBundle, snapshot: Snapshot, now: datetime) -> bool:
    """Store the snapshot's version (and any content not yet stored); make it the latest.

    Returns True when the bundle's latest version changed. Raises BundleError when a file's
    bytes no longer match its manifest hash (it changed while being stored: the next pass retries).
    """
    latest = session.execute(sa.select(_bundle.c.latest_version).where(_bundle.c.name == bundle.name)).scalar()
    exists = session.execute(sa.select(_version.c.version).where(
        _version.c.bundle_name == bundle.name, _version.c.version == snapshot.version)).scalar()
    if exists is None:
        lock_contents(session)
        wanted = set(snapshot.manifest.values())
        present: set[str] = set()
        ordered = sorted(wanted)
        for start in range(0, len(ordered), 500):
            present.update(session.execute(sa.select(_content.c.content_hash).where(
                _content.c.content_hash.in_(ordered[start:start + 500]))).scalars())
        by_hash = {h: p for p, h in snapshot.manifest.items()}
        rows = []
        for digest in sorted(wanted - present):
            data = snapshot.read(by_hash[digest])
            if content_hash(data) != digest:
                raise BundleError(f"bundle {bundle.name!r}: {by_hash[digest]} changed while being stored")
            rows.append({"content_hash": digest, "content": data, "size": len(data)})
        dialect = dialect_of(session)
        for start in range(0, len(rows), _CHUNK):
            session.execute(dialect.insert_ignore(_content, rows[start:start + _CHUNK]))
        session.execute(dialect.insert_ignore(_version, [{
            "bundle_name": bundle.name, "version": snapshot.version, "manifest": snapshot.manifest,
            "created_at": now}]))
    session.execute(sa.update(_bundle).where(_bundle.c.name == bundle.name)
                    .values(latest_version=snapshot.version, refreshed_at=now, kind=bundle.describe()))
    return bool(latest != snapshot.version)


def read_version(session: Session, bundle_name: str, version: str) -> StoredVersion:
    manifest = session.execute(sa.select(_version.c.manifest).where(
        _version.c.bundle_name == bundle_name, _version.c.version == version)).scalar()
    if manifest is None:
        raise BundleVersionMissing(
            f"bundle {bundle_name!r} version {version} is no longer stored (garbage-collected once no unfinished "
            "run needed it); trigger a new run, which takes the latest version")
    return StoredVersion(bundle_name, version, dict(manifest))


def read_contents(session: Session, hashes: set[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    ordered = sorted(hashes)
    for start in range(0, len(ordered), _CHUNK):
        rows = session.execute(sa.select(_content.c.content_hash, _content.c.content).where(
            _content.c.content_hash.in_(ordered[start:start + _CHUNK])))
        found.update((digest, bytes(data)) for digest, data in rows)
    return found


def latest_version(session: Session, bundle_name: str) -> str | None:
    return session.execute(sa.select(_bundle.c.latest_version).where(_bundle.c.name == bundle_name)).scalar()
