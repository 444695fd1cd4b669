"""A local folder as a bundle (today's ``dags_folder``): versioned by the hash of its contents."""

from __future__ import annotations

import os
from pathlib import Path

from tandem.dag_processing.bundles.base import (
    BaseDagBundle,
    Snapshot,
    content_hash,
    manifest_version,
    scan_files,
)


class LocalDagBundle(BaseDagBundle):
    """Files under ``path`` (a missing folder is an empty bundle). Unchanged files (same mtime and size) are not read again.

    :param path: the folder (``~`` expanded).
    """

    kind = "local"

    def __init__(self, name: str, *, path: str | Path, refresh_interval: float | None = None) -> None:
        super().__init__(name, refresh_interval=refresh_interval)
        self.path = Path(path).expanduser().resolve()
        self._hashes: dict[str, tuple[int, int, str]] = {}

    @property
    def root(self) -> Path:
        return self.path

    def snapshot(self) -> Snapshot:
        manifest: dict[str, str] = {}
        seen: dict[str, tuple[int, int, str]] = {}
        stats: dict[str, tuple[float, int]] = {}
        root = str(self.path)
        for rel, info in scan_files(self.path).items():
            known = self._hashes.get(rel)
            if known and known[:2] == (info.st_mtime_ns, info.st_size):
                digest = known[2]
            else:
                try:
                    digest = content_hash((self.path / rel).read_bytes())
                except OSError:
                    continue  # vanished while listed: the next snapshot decides
            seen[rel] = (info.st_mtime_ns, info.st_size, digest)
            manifest[rel] = digest
            stats[os.path.join(root, rel)] = (info.st_mtime, info.st_size)
        self._hashes = seen
        return Snapshot(manifest_version(manifest), manifest, folder=self.path, stats=stats)

    def describe(self) -> str:
        return "local"
