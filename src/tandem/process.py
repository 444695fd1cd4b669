"""Process-level helpers for the children Tandem forks."""

from __future__ import annotations

import os
import signal


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies, however the parent dies."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: orphans are then stopped by their parent's shutdown only
    if parent == 1 or os.getppid() != parent:
        os._exit(1)  # the parent died before the request took effect
