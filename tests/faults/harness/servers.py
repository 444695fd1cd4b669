"""Servers and system resources a fault test owns: a private Redis, a small disk, a skewed clock.

Each helper raises :class:`Unavailable` with the reason when this machine cannot provide it;
the pytest fixtures turn that into a skip (or a failure under ``TANDEM_TEST_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.fixtures.private_postgres import PrivatePostgres, free_port, start_private_postgres
from tests.fixtures.private_redis import PrivateRedis
from tests.fixtures.services import Unavailable


class SmallVolume:
    """A folder backed by a filesystem of ``size_mb`` MB: a tmpfs when root may mount one,
    else a loop-mounted ext2 image, else :class:`Unavailable`."""

    def __init__(self, size_mb: int = 2) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="tandem-small-"))
        self._image: Path | None = None
        self.kind = ""
        if os.geteuid() != 0:
            shutil.rmtree(self.path, ignore_errors=True)
            raise Unavailable("mounting a small filesystem needs root")
        if _run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=1777", "tmpfs", str(self.path)]):
            self.kind = "tmpfs"
            return
        image = Path(tempfile.mkstemp(prefix="tandem-small-", suffix=".img")[1])
        if (_run(["truncate", "-s", f"{size_mb}M", str(image)]) and _run(["mkfs.ext2", "-q", "-F", str(image)])
                and _run(["mount", "-o", "loop", str(image), str(self.path)])):
            self.path.chmod(0o1777)
            self._image, self.kind = image, "loop"
            return
        image.unlink(missing_ok=True)
        shutil.rmtree(self.path, ignore_errors=True)
        raise Unavailable("neither a tmpfs nor a loop device can be mounted here")

    def close(self) -> None:
        _run(["umount", "-l", str(self.path)])
        if self._image is not None:
            self._image.unlink(missing_ok=True)
        shutil.rmtree(self.path, ignore_errors=True)


def _run(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, check=False, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def faketime_env(offset: str) -> dict[str, str]:
    """Environment that shifts a process's (and its children's) wall clock by ``offset``
    (``+10m``, ``-10m``) with Debian's libfaketime. The monotonic clock is left alone."""
    libs = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1")) + sorted(
        glob.glob("/usr/lib/faketime/libfaketime.so.1"))
    if not libs:
        why = "install Debian's faketime (scripts/install-system-deps.sh does, as root)"
        raise Unavailable(f"libfaketime is not installed: {why}")
    site = str(Path(__file__).parent / "faketime_site")  # works around libfaketime's sleep bug
    path = os.pathsep.join(p for p in (site, os.environ.get("PYTHONPATH", "")) if p)
    return {"LD_PRELOAD": libs[0], "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_NO_CACHE": "1", "PYTHONPATH": path}


__all__ = ["PrivatePostgres", "PrivateRedis", "SmallVolume", "Unavailable", "faketime_env", "free_port",
           "start_private_postgres"]
