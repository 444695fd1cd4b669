"""The bundle contract: a name, a folder to parse, and a snapshot of its files with a version id."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

# Never part of a version: interpreter caches and editors' or VCS's hidden files.
_SKIPPED_DIRS = frozenset({"__pycache__"})


class BundleError(Exception):
    """A bundle cannot be read or fetched; the message names the bundle and the cause."""


@dataclass
class Snapshot:
    """The files of one version: ``manifest`` maps relative POSIX paths to content hashes."""

    version: str
    manifest: dict[str, str]
    #: Reads the bytes of a relative path of this snapshot (only called for unknown contents).
    reader: dict[str, bytes] | None = field(default=None, repr=False)
    folder: Path | None = None

    def read(self, path: str) -> bytes:
        if self.reader is not None:
            return self.reader[path]
        assert self.folder is not None
        return (self.folder / path).read_bytes()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_version(manifest: dict[str, str]) -> str:
    """Version id of a tree without one of its own: the hash of its sorted manifest."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


class BaseDagBundle:
    """A named source of DAG files.

    :param name: the bundle's unique name (``dag_bundle_config_list`` entry).
    :param refresh_interval: seconds between refreshes of a remote source; None: every pass.
    """

    #: Stored in ``dag_bundle.kind`` and shown in listings.
    kind: ClassVar[str] = "base"

    def __init__(self, name: str, *, refresh_interval: float | None = None) -> None:
        self.name = name
        self.refresh_interval = refresh_interval

    @property
    def root(self) -> Path:
        """The folder the DAG processor lists and imports DAG files from."""
        raise NotImplementedError

    def snapshot(self) -> Snapshot:
        """The bundle's files now (fetching a remote first if due); raises BundleError."""
        raise NotImplementedError

    def after_store(self, snapshot: Snapshot) -> None:
        """Called once ``snapshot`` is stored, before its files are parsed from ``root``."""

    def describe(self) -> str:
        """What the bundle reads, for listings and the cluster fingerprint (no secrets)."""
        return self.kind


def walk_files(folder: Path) -> list[str]:
    """Relative POSIX paths of every regular file under ``folder``, hidden ones excepted."""
    found: list[str] = []
    if not folder.is_dir():
        return found
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        here = Path(root)
        for name in sorted(files):
            if (name.startswith(".") and name != ".tandemignore") or name.endswith((".pyc", ".pyo")):
                continue
            path = here / name
            if path.is_file():
                found.append(path.relative_to(folder).as_posix())
    return found
