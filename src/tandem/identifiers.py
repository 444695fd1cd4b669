"""Identifiers users choose (run ids) reach templates, file paths and shell commands of tasks.

One allowed pattern, ``security.identifier_pattern`` (Airflow's default
``^[A-Za-z0-9_.~:+-]+$``), is checked here for the API, the CLI and the UI alike, so that no
shell or path metacharacter enters through a run id (Airflow CVE-2022-40127).
"""

from __future__ import annotations

import re
from functools import lru_cache

from tandem.config import get_settings

MAX_LENGTH = 200


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def check_identifier(value: str, what: str = "run id") -> str:
    """Return ``value`` when it matches the configured pattern; raise ValueError saying why not."""
    pattern = get_settings().security.identifier_pattern
    if not value or len(value) > MAX_LENGTH or not _compiled(pattern).fullmatch(value):
        raise ValueError(f"invalid {what} {value[:MAX_LENGTH]!r}: it must be 1-{MAX_LENGTH} characters matching "
                         f"{pattern} (security.identifier_pattern)")
    return value
