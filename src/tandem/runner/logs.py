"""Where a try's log lives, and Tandem's own lines in it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from tandem.orchestration import TiKey
from tandem.secrets_masker import process_masker


def try_log_path(base: Path, key: TiKey, try_number: int) -> Path:
    """``<base>/dag_id=…/run_id=…/task_id=…[/map_index=…]/attempt=N.log``."""
    path = base / f"dag_id={key.dag_id}" / f"run_id={key.run_id}" / f"task_id={key.task_id}"
    if key.map_index >= 0:
        path = path / f"map_index={key.map_index}"
    return path / f"attempt={try_number}.log"


def safe_log_path(base: Path, key: TiKey, try_number: int) -> Path:
    """``try_log_path``, refusing ids that would leave ``base`` (path traversal)."""
    path = try_log_path(base, key, try_number).resolve()
    if not path.is_relative_to(base.resolve()):
        raise ValueError("log path escapes the log folder")
    return path


class TryLog:
    """Appends Tandem's timestamped lines to the try's log file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: TextIO = path.open("a", buffering=1, encoding="utf-8")

    def line(self, message: str, level: str = "INFO") -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        self._file.write(f"[{stamp}] {{tandem}} {level} - {process_masker().redact_text(message)}\n")

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()


def append_line(base: Path, key: TiKey, try_number: int, message: str, level: str = "ERROR") -> None:
    """Add one line to a try's log from outside the runner (executor, zombie reaper)."""
    log = TryLog(try_log_path(base, key, try_number))
    try:
        log.line(message, level)
    finally:
        log.close()
