"""Fixtures shared by the ``tandem db merge`` tests (Tandem and Airflow sources)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tandem.cli.main import main
from tandem.config import reset_settings
from tandem.db.engine import dispose_engines, get_engine
from tests.fixtures.db import create_server_database, drop_server_database


@pytest.fixture
def target(request: pytest.FixtureRequest, tandem_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """This cluster: the tandem_home fixture's home and key, on a fresh database of ``param`` kind."""
    kind = getattr(request, "param", "postgres")
    admin = name = None
    if kind == "sqlite":
        url = f"sqlite:///{tandem_home / 'target.db'}"
    else:
        admin, name, url = create_server_database(kind)
    monkeypatch.setenv("TANDEM__DATABASE__URL", url)
    reset_settings()
    assert main(["db", "migrate"]) == 0
    try:
        yield get_engine(url)
    finally:
        dispose_engines(close=True)
        if admin and name:
            drop_server_database(kind, admin, name)
