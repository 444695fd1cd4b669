"""``read_try_log``: one entry point for the CLI and the API."""

from __future__ import annotations

from dataclasses import dataclass

from tandem.config import Settings
from tandem.orchestration import TiKey
from tandem.runner.logs import safe_log_path


@dataclass(frozen=True)
class LogChunk:
    """Text from ``offset`` on; ``next_offset`` resumes a tail; ``found`` is False when no source has it."""

    text: str
    next_offset: int
    found: bool
    source: str = ""


def read_local(settings: Settings, key: TiKey, try_number: int, offset: int = 0, limit: int = 1 << 20) -> LogChunk:
    path = safe_log_path(settings.log_folder, key, try_number)
    if not path.is_file():
        return LogChunk("", offset, False)
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read(limit)
    return LogChunk(data.decode("utf-8", errors="replace"), offset + len(data), True, source=str(path))


def read_try_log(settings: Settings, key: TiKey, try_number: int, offset: int = 0) -> LogChunk:
    """The try's log from ``offset`` (bytes) on, from the first source that has it."""
    return read_local(settings, key, try_number, offset)
