"""A git repository as a bundle: fetched with dulwich (pure Python), versioned by commit id.

The repository is fetched into a bare clone under ``$TANDEM_HOME/bundle_repos/<name>`` at most
every ``refresh_interval`` seconds; the tree of ``tracking_ref`` (a branch, a tag or a commit
id) is read from the object store, and once stored it is written to a stable working folder
(``$TANDEM_HOME/bundle_checkouts/<name>``) the DAG processor parses, so file paths do not
change from one commit to the next.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from tandem.dag_processing.bundles.base import BaseDagBundle, BundleError, Snapshot, content_hash

_COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")


def _redact(url: str) -> str:
    """The URL without credentials (``https://user:token@host`` must never reach a log)."""
    return re.sub(r"//[^/@]*@", "//***@", url)


class GitDagBundle(BaseDagBundle):
    """The files of ``tracking_ref`` in the repository at ``repo_url``.

    :param repo_url: anything dulwich fetches from: a path, ``file://``, ``https://``, ``ssh://``.
    :param tracking_ref: branch, tag or full commit id (default ``main``).
    :param subdir: only this folder of the repository is the bundle.
    :param home: where the clone and working folder live (default ``$TANDEM_HOME``).
    """

    kind = "git"

    def __init__(self, name: str, *, repo_url: str, tracking_ref: str = "main", subdir: str = "",
                 refresh_interval: float | None = None, home: str | Path | None = None) -> None:
        super().__init__(name, refresh_interval=refresh_interval)
        if not repo_url:
            raise BundleError(f"bundle {name!r}: kwargs.repo_url is required for a git bundle")
        self.repo_url = repo_url
        self.tracking_ref = tracking_ref
        self.subdir = subdir.strip("/")
        if home is None:
            from tandem.config import tandem_home

            home = tandem_home()
        self.repo_path = Path(home) / "bundle_repos" / name
        self.checkout = Path(home) / "bundle_checkouts" / name
        self._fetched_at: float | None = None
        self._commit: bytes | None = None

    @property
    def root(self) -> Path:
        return self.checkout

    def describe(self) -> str:
        return f"git {_redact(self.repo_url)}@{self.tracking_ref}" + (f":{self.subdir}" if self.subdir else "")

    def _repo(self) -> Any:
        from dulwich.repo import Repo

        if (self.repo_path / "objects").is_dir():
            return Repo(str(self.repo_path))
        self.repo_path.mkdir(parents=True, exist_ok=True)
        return Repo.init_bare(str(self.repo_path))

    def _fetch(self, repo: Any) -> bytes:
        from dulwich.client import get_transport_and_path

        ref = self.tracking_ref.encode()
        try:
            client, path = get_transport_and_path(self.repo_url)
            result = client.fetch(path, repo)
        except Exception as e:  # network, auth, not a repository: all one message
            raise BundleError(f"bundle {self.name!r}: cannot fetch {_redact(self.repo_url)}: "
                              f"{type(e).__name__}: {e}") from None
        refs: dict[Any, Any] = dict(result.refs)
        for candidate in (b"refs/heads/" + ref, b"refs/tags/" + ref, ref):
            if refs.get(candidate):
                return self._peel(repo, bytes(refs[candidate]))
        if _COMMIT_ID.match(self.tracking_ref) and ref in repo.object_store:
            return ref
        raise BundleError(f"bundle {self.name!r}: {_redact(self.repo_url)} has no branch, tag or commit "
                          f"{self.tracking_ref!r}")

    @staticmethod
    def _peel(repo: Any, sha: bytes) -> bytes:
        from dulwich.objects import Tag

        obj = repo[sha]
        while isinstance(obj, Tag):  # an annotated tag names the commit it points at
            obj = repo[obj.object[1]]
        return bytes(obj.id)

    def snapshot(self) -> Snapshot:
        repo = self._repo()
        try:
            due = (self._commit is None or self.refresh_interval is None
                   or time.monotonic() - (self._fetched_at or 0) >= self.refresh_interval)
            if due:
                self._commit = self._fetch(repo)
                self._fetched_at = time.monotonic()
            assert self._commit is not None
            commit = repo[self._commit]
            manifest: dict[str, str] = {}
            blobs: dict[str, bytes] = {}
            prefix = self.subdir + "/" if self.subdir else ""
            for entry in repo.object_store.iter_tree_contents(commit.tree):
                path = entry.path.decode("utf-8", "replace")
                # Submodules (gitlinks) have no blob here; symlinks are stored as their target text.
                if not path.startswith(prefix) or (entry.mode & 0o170000) == 0o160000:
                    continue
                rel = path[len(prefix):]
                if any(part.startswith(".") or part == "__pycache__" for part in rel.split("/")):
                    continue
                data = repo[entry.sha].data
                blobs[rel] = data
                manifest[rel] = content_hash(data)
            return Snapshot(self._commit.decode(), manifest, reader=blobs)
        finally:
            repo.close()

    def after_store(self, snapshot: Snapshot) -> None:
        sync_folder(self.checkout, snapshot)


def sync_folder(folder: Path, snapshot: Snapshot) -> None:
    """Make ``folder`` hold exactly the snapshot's files, rewriting only those that differ."""
    folder.mkdir(parents=True, exist_ok=True)
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    for rel in sorted(present - set(snapshot.manifest)):
        (folder / rel).unlink(missing_ok=True)
    for rel, digest in snapshot.manifest.items():
        target = folder / rel
        if target.is_file() and content_hash(target.read_bytes()) == digest:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(snapshot.read(rel))
        os.replace(tmp, target)  # a parse never sees a half-written file
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if sub.name == "__pycache__":
            shutil.rmtree(sub, ignore_errors=True)
        elif not any(sub.iterdir()):
            sub.rmdir()
