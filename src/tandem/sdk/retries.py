"""Retry delay policy, as a pure function so the scheduler can compute it from JSON."""

from __future__ import annotations

from datetime import timedelta

# timedelta cannot represent more than this; exponential growth must stop here.
_MAX_SECONDS = timedelta.max.total_seconds() - 1


def next_retry_delay(
    try_number: int,
    retry_delay: timedelta,
    exponential: bool,
    max_delay: timedelta | None,
) -> timedelta:
    """Return how long to wait before retrying after try ``try_number`` failed.

    With ``exponential`` the delay doubles per failed try
    (``retry_delay * 2 ** (try_number - 1)``); the result is capped by ``max_delay``.
    It is deterministic: the same inputs always give the same delay.
    """
    base = retry_delay.total_seconds()
    if exponential:
        exponent = max(try_number, 1) - 1
        # Compare in log space first so a huge try number cannot overflow the float.
        seconds = _MAX_SECONDS if exponent > 1024 else min(base * (2.0**exponent), _MAX_SECONDS)
    else:
        seconds = base
    delay = timedelta(seconds=seconds)
    if max_delay is not None and delay > max_delay:
        return max_delay
    return delay
