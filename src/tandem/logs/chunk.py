"""A piece of a try's log, as every log source returns it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogChunk:
    """Text from ``offset`` on; ``next_offset`` resumes a tail; ``found`` is False when no source has it.

    ``source`` names where the text came from; ``detail`` says why sources had nothing.
    """

    text: str
    next_offset: int
    found: bool
    source: str = ""
    detail: str = ""


def chunk_from_bytes(data: bytes, offset: int, source: str) -> LogChunk:
    """Decode ``data`` read at ``offset``; a UTF-8 sequence cut at the end is left for the next read."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.end == len(data) and len(data) - e.start < 4:  # a character still being written
            data = data[: e.start]
        text = data.decode("utf-8", errors="replace")
    return LogChunk(text, offset + len(data), True, source=source)
