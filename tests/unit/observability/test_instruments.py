from __future__ import annotations

import time
from typing import Any

import pytest

from tandem.observability import instruments


class Broken:
    """Instruments whose files were removed under them."""

    def __getattr__(self, name: str) -> Any:
        raise FileNotFoundError(f"metrics file of {name} is gone")


def test_a_failing_instrument_never_fails_the_pass(monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(instruments, "_on", Broken())
    before = instruments.passes
    for _ in range(3):
        instruments.scheduler_pass(time.perf_counter())
        instruments.db_error("scheduler")
    assert instruments.passes == before + 3  # the load's figure still counts
    assert caplog.text.count("could not record metric scheduler_pass") == 1  # once per kind


def test_instruments_are_no_ops_until_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instruments, "_on", None)
    instruments.tries_finished([(object(), object(), object())], [object()])
    instruments.dag_run_finished("d", "success", None, None)  # type: ignore[arg-type]
