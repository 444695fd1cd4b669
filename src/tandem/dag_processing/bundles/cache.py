"""Materializing a bundle version on a runner: ``<bundle_cache_folder>/<bundle>/<version>/``.

Invariants:
- a version folder, once present, holds exactly that version's files and never changes: it is
  written under a temporary name and renamed into place, so concurrent runners (forked tries,
  Celery worker processes) either see it whole or not at all, and a loser of the rename race
  discards its copy;
- a cache hit costs a dictionary lookup (this process has seen the folder) or one ``stat``;
  the database is read only on a miss.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy.orm import Session

from tandem.dag_processing.bundles.base import BundleError, content_hash

_known: set[Path] = set()
_SAFE_PART = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def version_folder(cache_root: Path, bundle_name: str, version: str) -> Path:
    for value in (bundle_name, version):
        if not value or set(value) - _SAFE_PART or value in (".", ".."):
            raise BundleError(f"bundle name or version {value!r} cannot name a cache folder")
    return cache_root / bundle_name / version


def materialize(cache_root: Path, bundle_name: str, version: str,
                session_factory: Callable[[], AbstractContextManager[Session]]) -> Path:
    """The folder holding ``version`` of ``bundle_name``, fetched from the DB if not cached yet.

    Raises BundleVersionMissing when the version is no longer stored, BundleError when it
    cannot be written.
    """
    folder = version_folder(cache_root, bundle_name, version)
    if folder in _known:
        return folder
    if folder.is_dir():
        _known.add(folder)
        return folder
    from tandem.dag_processing.bundles.storage import read_contents, read_version

    with session_factory() as session:
        stored = read_version(session, bundle_name, version)
        contents = read_contents(session, set(stored.manifest.values()))
    missing = sorted(p for p, h in stored.manifest.items() if h not in contents)
    if missing:
        raise BundleError(f"bundle {bundle_name!r} version {version}: contents of {missing[:5]} are not stored")
    tmp = folder.parent / f".tmp-{version}-{uuid.uuid4().hex}"
    try:
        for rel, digest in stored.manifest.items():
            data = contents[digest]
            if content_hash(data) != digest:
                raise BundleError(f"bundle {bundle_name!r} version {version}: {rel} is corrupt in the database")
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        tmp.mkdir(parents=True, exist_ok=True)  # an empty version is still a folder
        try:
            os.rename(tmp, folder)
        except OSError:
            if not folder.is_dir():
                raise
            # A concurrent runner renamed its copy first: identical contents, keep theirs.
    except OSError as e:
        raise BundleError(f"bundle {bundle_name!r} version {version}: cannot write {folder}: {e}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _known.add(folder)
    return folder


def forget(folder: Path) -> None:
    """Stop trusting that ``folder`` exists (another process pruned it)."""
    _known.discard(folder)


def prune(cache_root: Path, keep: dict[str, set[str]]) -> list[Path]:
    """Remove version folders not in ``keep`` ({bundle: versions}); returns what was removed.

    A folder is renamed aside before deletion, so a runner never sees one half-deleted.
    """
    removed: list[Path] = []
    if not cache_root.is_dir():
        return removed
    for bundle_dir in sorted(p for p in cache_root.iterdir() if p.is_dir()):
        wanted = keep.get(bundle_dir.name, set())
        for version_dir in sorted(p for p in bundle_dir.iterdir() if p.is_dir()):
            if version_dir.name in wanted or version_dir.name.startswith(".tmp-"):
                continue
            doomed = bundle_dir / f".tmp-gc-{uuid.uuid4().hex}"
            try:
                os.rename(version_dir, doomed)
            except OSError:
                continue
            shutil.rmtree(doomed, ignore_errors=True)
            _known.discard(version_dir)
            removed.append(version_dir)
    return removed
