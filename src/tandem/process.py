"""Process-level helpers for the children Tandem forks."""

from __future__ import annotations

import signal


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies, however the parent dies."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: orphans are then stopped by their parent's shutdown only
