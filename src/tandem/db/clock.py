"""This process's clock, calibrated against the metadata database's.

Every liveness judgement (heartbeats, zombies, dead nodes, queued timeouts, due retries)
compares a timestamp one node wrote with "now" on another node. Comparing two machines' own
clocks makes a node a few minutes off reap healthy tries or be declared dead. So every
timestamp Tandem writes or judges is on the database's clock: each process measures the
offset between its clock and the database's when it opens a connection and again at every
node heartbeat, and ``now()`` applies it. A node ten minutes off still agrees with its peers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

# Offsets smaller than this are measurement noise (round trip and rounding): not worth a log line.
_NOTABLE_SKEW = 1.0

_offset = 0.0
_calibrated_at: float | None = None  # time.monotonic() of the last measurement
_lock = threading.Lock()


def now() -> datetime:
    """The database's current UTC time, as best this process knows it."""
    return datetime.now(UTC) + timedelta(seconds=_offset)


def offset() -> float:
    """Seconds to add to this machine's clock to get the database's."""
    return _offset


def calibrated_within(seconds: float) -> bool:
    """Whether the offset was measured less than ``seconds`` ago."""
    return _calibrated_at is not None and time.monotonic() - _calibrated_at < seconds


def calibrate(read_db_time: Callable[[], datetime]) -> None:
    """Measure the offset with one round trip; ``read_db_time`` returns the DB's UTC time."""
    global _offset, _calibrated_at
    before = time.time()
    db_time = read_db_time()
    after = time.time()
    if db_time.tzinfo is None:
        db_time = db_time.replace(tzinfo=UTC)
    measured = db_time.timestamp() - (before + after) / 2
    with _lock:
        if abs(measured - _offset) >= _NOTABLE_SKEW:
            log.warning("this machine's clock is %+.1f s off the database's; using the database's time", -measured)
        _offset = measured
        _calibrated_at = time.monotonic()
