"""The retry delay rule: exponential backoff, caps, and no overflow at any try number."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tandem.models import utcnow
from tandem.orchestration import RetryParams
from tandem.orchestration.rules.retries import MAX_RETRY_DELAY, retry_delay


@pytest.mark.parametrize(
    ("try_number", "exponential", "max_delay", "expected"),
    [
        (1, False, None, 10),
        (3, False, None, 10),
        (1, True, None, 10),
        (2, True, None, 20),
        (4, True, None, 80),
        (4, True, timedelta(seconds=50), 50),
        (0, True, None, 10),
    ],
)
def test_delay(try_number: int, exponential: bool, max_delay: timedelta | None, expected: int) -> None:
    params = RetryParams(timedelta(seconds=10), exponential, max_delay)
    assert retry_delay(try_number, params) == timedelta(seconds=expected)


@pytest.mark.parametrize("try_number", [40, 64, 1025, 10**6, 10**18])
@pytest.mark.parametrize("max_delay", [None, timedelta(hours=1), timedelta(days=3650)])
def test_huge_try_numbers_neither_overflow_nor_exceed_the_cap(try_number: int, max_delay: timedelta | None) -> None:
    delay = retry_delay(try_number, RetryParams(timedelta(seconds=300), True, max_delay))
    assert delay == min(MAX_RETRY_DELAY, max_delay or MAX_RETRY_DELAY)
    assert utcnow() + delay > utcnow()


def test_a_fixed_delay_longer_than_a_day_is_kept() -> None:
    assert retry_delay(3, RetryParams(timedelta(days=3), False, None)) == timedelta(days=3)
