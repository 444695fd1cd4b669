"""The masker itself, and what a running task registers: its log lines, prints, rendered fields and error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tandem.secrets_masker import MASK, MaskingStream, SecretsMasker, process_masker, redact_extra


def test_values_names_and_nested_extras(tandem_home: Path) -> None:
    masker = SecretsMasker()
    masker.add("hunter2-long", "password")
    masker.add({"api_key": "k-123456", "nested": {"private_key": ["pk-abcdef"]}, "region": "eu"})
    masker.add("ab", "password")  # too short to mask in free text
    text = "pw=hunter2-long key=k-123456 pk=pk-abcdef region eu ab"
    assert masker.redact_text(text) == f"pw={MASK} key={MASK} pk={MASK} region eu ab"
    assert masker.redact({"token": "anything", "list": ["k-123456"], "ok": 1}) == {
        "token": MASK, "list": [MASK], "ok": 1}
    assert redact_extra('{"secret_token": "x", "host": "h"}') == '{"secret_token": "***", "host": "h"}'


def test_configured_sensitive_names(tandem_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM__SECURITY__SENSITIVE_NAMES", '["pin"]')
    from tandem.config import reset_settings

    reset_settings()
    masker = SecretsMasker()
    assert masker.redact({"bank_pin": "1234", "password": "visible"}) == {"bank_pin": MASK, "password": "visible"}


def test_a_tasks_output_and_runner_lines_are_masked(tandem_home: Path, tmp_path: Path) -> None:
    from tandem import mask_secret
    from tandem.runner.logs import TryLog

    mask_secret("registered-at-runtime")
    out = io.StringIO()
    MaskingStream(out, process_masker()).write("printed registered-at-runtime\n")
    assert out.getvalue() == f"printed {MASK}\n"
    log = TryLog(tmp_path / "attempt=1.log")
    log.line("Task failed: RuntimeError: registered-at-runtime rejected", "ERROR")
    log.close()
    assert "registered-at-runtime" not in (tmp_path / "attempt=1.log").read_text()
