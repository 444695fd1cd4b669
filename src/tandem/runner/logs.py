"""Where a try's log lives, and Tandem's own lines in it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from tandem.orchestration import TiKey


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
    """Appends Tandem's timestamped lines to the try's log file.

    Never raises for a full or failing disk: a log line that cannot be written must not stop
    the supervisor or scheduler writing it. ``error`` says what went wrong; a try whose log
    cannot even be opened fails with that reason instead of running unlogged.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: OSError | None = None
        self._file: TextIO | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", buffering=1, encoding="utf-8")
        except OSError as e:
            self.error = e

    def line(self, message: str, level: str = "INFO") -> None:
        if self._file is None:
            return
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        try:
            self._file.write(f"[{stamp}] {{tandem}} {level} - {message}\n")
        except OSError as e:
            self.error = e

    def fileno(self) -> int:
        if self._file is None:
            raise OSError(f"the try's log {self.path} could not be opened: {self.error}")
        return self._file.fileno()

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass  # the last buffered line is lost, and only that


def append_line(base: Path, key: TiKey, try_number: int, message: str, level: str = "ERROR") -> None:
    """Add one line to a try's log from outside the runner (executor, zombie reaper)."""
    log = TryLog(try_log_path(base, key, try_number))
    try:
        log.line(message, level)
    finally:
        log.close()
