"""Settings for DAG-processing tests, on top of the shared ``tandem_home``/``engine`` fixtures.

Parsing forks real children, so intervals are zero (every changed file is due at once) and
the import timeout is short enough that a hung file does not slow the suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tandem.config import Settings, get_settings, reset_settings


@pytest.fixture
def settings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("TANDEM__CORE__DAGS_ARE_PAUSED_AT_CREATION", "true")
    monkeypatch.setenv("TANDEM__CORE__DAG_FILE_PROCESSOR_TIMEOUT", "5")
    monkeypatch.setenv("TANDEM__SCHEDULER__MIN_FILE_PROCESS_INTERVAL", "0")
    monkeypatch.setenv("TANDEM__SCHEDULER__DAG_DIR_LIST_INTERVAL", "1")
    reset_settings()
    yield get_settings()
    # Close this process's pooled connections for real; the shared teardown only drops them
    # (dispose(close=False), meant for forked children), which leaks server connections.
    engine.dispose()
