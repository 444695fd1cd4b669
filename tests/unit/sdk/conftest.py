from __future__ import annotations

from datetime import datetime, timezone

import pytest

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def start_date() -> datetime:
    return START
