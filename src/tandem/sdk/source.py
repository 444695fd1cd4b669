"""Locating the user's line of code that is defining a DAG or task.

Errors are far more useful when they say ``dags/foo.py:12`` than when they point
inside the SDK, so constructors record the first stack frame outside ``tandem``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import tandem

_PACKAGE_DIR = os.path.dirname(os.path.abspath(tandem.__file__)) + os.sep
# contextlib frames sit between a user's ``with`` / decorator and our code.
_SKIPPED_DIRS = (_PACKAGE_DIR, os.path.dirname(os.path.abspath(os.__file__)) + os.sep + "contextlib")


@dataclass(frozen=True)
class SourceLocation:
    """A file and line in user code."""

    fileloc: str
    lineno: int

    def __str__(self) -> str:
        return f"{self.fileloc}:{self.lineno}"


def _is_internal(filename: str) -> bool:
    path = os.path.abspath(filename)
    # Example DAGs shipped inside the package are user code, not SDK internals.
    if path.startswith(_PACKAGE_DIR + "example_dags"):
        return False
    return path.startswith(_SKIPPED_DIRS)


def caller_location() -> SourceLocation:
    """Return the innermost stack frame that is not part of tandem itself."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_internal(filename):
            return SourceLocation(filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return SourceLocation("<unknown>", 0)
