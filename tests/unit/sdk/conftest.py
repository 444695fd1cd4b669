from __future__ import annotations

from datetime import UTC, datetime

import pytest

START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def start_date() -> datetime:
    return START
