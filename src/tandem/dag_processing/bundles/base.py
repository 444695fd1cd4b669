"""The bundle contract: a name, a folder to parse, and a snapshot of its files with a version id."""

from __future__ import annotations

import hashlib
import json
import os
import stat
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
    #: (mtime, size) by absolute path of the files the bundle stat'ed to take the snapshot (a
    #: local folder), which spares the processor stat'ing each of them again to see what changed.
    stats: dict[str, tuple[float, int]] = field(default_factory=dict, repr=False)

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


def scan_files(folder: Path) -> dict[str, os.stat_result]:
    """Every regular file under ``folder`` (symlinks followed, hidden ones excepted), by its
    relative POSIX path, in walk order, with its ``stat``.

    One ``stat`` per file, and none per directory entry beyond what ``scandir`` reports: a
    processor scans its whole folder every pass, so this is most of what an idle one costs.
    """
    found: dict[str, os.stat_result] = {}

    def scan(path: str, prefix: str) -> None:
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            return
        folders = []
        for entry in entries:
            name = entry.name
            if entry.is_dir():
                if not name.startswith(".") and name not in _SKIPPED_DIRS:
                    folders.append(entry)
                continue
            if (name.startswith(".") and name != ".tandemignore") or name.endswith((".pyc", ".pyo")):
                continue
            try:
                info = entry.stat()
            except OSError:
                continue  # a dangling link, or gone since the listing
            if stat.S_ISREG(info.st_mode):
                found[prefix + name] = info
        for entry in folders:
            scan(entry.path, f"{prefix}{entry.name}/")

    if folder.is_dir():
        scan(str(folder), "")
    return found
