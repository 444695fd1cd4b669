"""Loaded by the processes of a clock-skew test (on their PYTHONPATH) under libfaketime.

libfaketime 0.9.10 with a real monotonic clock makes ``clock_nanosleep``, which ``time.sleep``
uses, fail with EINVAL (faking the monotonic clock instead hangs timed waits). Sleeping on
``select`` goes around that bug of the fault injector; nothing else is changed.
"""

import select
import time


def _sleep(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
