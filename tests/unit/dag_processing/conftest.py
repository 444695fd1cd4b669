from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tandem.config import Settings, get_settings, reset_settings
from tandem.db.engine import dispose_engines, get_engine
from tandem.db.migrate import migrate


@pytest.fixture
def dags_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty DAGs folder under a fresh TANDEM_HOME, without example DAGs."""
    monkeypatch.setenv("TANDEM_HOME", str(tmp_path))
    monkeypatch.delenv("TANDEM_CONFIG", raising=False)
    monkeypatch.setenv("TANDEM__CORE__LOAD_EXAMPLES", "false")
    monkeypatch.setenv("TANDEM__CORE__DAG_FILE_PROCESSOR_TIMEOUT", "5")
    monkeypatch.setenv("TANDEM__SCHEDULER__MIN_FILE_PROCESS_INTERVAL", "0")
    monkeypatch.setenv("TANDEM__SCHEDULER__DAG_DIR_LIST_INTERVAL", "1")
    reset_settings()
    folder = tmp_path / "dags"
    folder.mkdir()
    yield folder
    reset_settings()


@pytest.fixture
def settings(dags_folder: Path) -> Settings:
    return get_settings()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = get_engine()
    migrate(engine)
    yield engine
    dispose_engines()
