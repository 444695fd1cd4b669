"""Secrets masking, as Airflow users expect it: known secret values become ``***`` wherever shown.

What is a secret:
- connection passwords, and values under connection ``extra`` keys whose names look sensitive;
- values of variables whose names look sensitive;
- any value a task registers with ``mask_secret`` while it runs.

A name looks sensitive when it contains one of ``security.sensitive_names`` (password, secret,
token, api_key, private_key, …), in any case. This module is the one place that rule lives: the
API, the UI and the CLI ask ``is_sensitive_name`` and call ``redact``.

Two maskers exist. In a running task, the process-wide one (``mask_secret``/``redact``) knows
the values registered during the try and the sensitive variables the task read; the runner
applies it to the log as it is written, to rendered fields and to the failure reason. In the
API server, ``masker_from_db`` builds one from the connections and variables stored in the
metadata DB, applied to logs, rendered fields, XComs and errors on every read, for every role.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MASK = "***"
# Shorter values would mask ordinary words and digits everywhere (Airflow's min_length_masked_secret).
MIN_LENGTH = 4


def sensitive_names() -> tuple[str, ...]:
    from tandem.config import get_settings

    return tuple(n.lower() for n in get_settings().security.sensitive_names)


def is_sensitive_name(name: object, names: Iterable[str] | None = None) -> bool:
    lowered = str(name).lower()
    return any(word in lowered for word in (names if names is not None else sensitive_names()))


class SecretsMasker:
    """A set of secret values and a replacer for them; safe to share between threads."""

    def __init__(self, names: Iterable[str] | None = None) -> None:
        self.names = tuple(names) if names is not None else sensitive_names()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: Any, name: str | None = None) -> None:
        """Register ``value``; for a mapping, the values under sensitive keys (all of them if ``name`` is)."""
        if isinstance(value, dict):
            for key, item in value.items():
                if (name is not None and is_sensitive_name(name, self.names)) or is_sensitive_name(key, self.names):
                    self.add_all(item)
                else:
                    self.add(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.add(item, name)
        elif isinstance(value, str) and (name is None or is_sensitive_name(name, self.names)):
            self._add_text(value)

    def add_all(self, value: Any) -> None:
        """Register every value in ``value``, whatever its keys are called."""
        if isinstance(value, dict):
            for item in value.values():
                self.add_all(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.add_all(item)
        elif value is not None:
            self._add_text(str(value))

    def _add_text(self, value: str) -> None:
        candidates = {value, value.strip()}
        # A JSON-encoded copy (quotes and backslashes escaped) is what a log of a dict shows.
        candidates.add(json.dumps(value)[1:-1])
        with self._lock:
            before = len(self._values)
            self._values.update(c for c in candidates if len(c) >= MIN_LENGTH)
            if len(self._values) != before:
                self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # Longest first, so a secret containing another is masked whole.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            return self._pattern

    def redact_text(self, text: str) -> str:
        pattern = self._compiled()
        return pattern.sub(MASK, text) if pattern is not None else text

    def redact(self, value: Any, name: str | None = None) -> Any:
        """A copy of ``value`` with secrets masked: by value in text, by key name in mappings."""
        if name is not None and is_sensitive_name(name, self.names) and value not in (None, "", {}, []):
            return MASK if not isinstance(value, dict | list) else self._mask_all(value)
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            return {k: self.redact(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact(v) for v in value]
        return value

    def _mask_all(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._mask_all(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._mask_all(v) for v in value]
        return MASK


class MaskingStream(io.TextIOBase):
    """A text stream that masks secrets before writing to ``target`` (a task's stdout and stderr)."""

    def __init__(self, target: TextIO, masker: SecretsMasker) -> None:
        self._target = target
        self._masker = masker

    def write(self, text: str) -> int:
        self._target.write(self._masker.redact_text(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def fileno(self) -> int:
        return self._target.fileno()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


_process_masker: SecretsMasker | None = None
_process_lock = threading.Lock()


def process_masker() -> SecretsMasker:
    """The masker of this process (a task's try): what ``mask_secret`` registered."""
    global _process_masker
    with _process_lock:
        if _process_masker is None:
            _process_masker = SecretsMasker()
        return _process_masker


def mask_secret(value: Any, name: str | None = None) -> None:
    """Hide ``value`` from this try's log, rendered fields and errors (Airflow's ``mask_secret``)."""
    process_masker().add(value, name)


def redact(value: Any, name: str | None = None) -> Any:
    return process_masker().redact(value, name)


def connection_extra_dict(text: str | None) -> Any:
    """A connection's ``extra`` parsed as JSON; a non-JSON extra is one opaque value."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def redact_extra(text: str | None, masker: SecretsMasker | None = None) -> str | None:
    """A connection's ``extra`` (JSON text) with values under sensitive keys shown as ``***``."""
    parsed = connection_extra_dict(text)
    if parsed is None or isinstance(parsed, str):
        return text
    masker = masker or SecretsMasker()
    return json.dumps(masker.redact(parsed))


def masker_from_db(session: Session) -> SecretsMasker:
    """A masker knowing every stored secret: connection passwords and sensitive extras, sensitive variables."""
    import sqlalchemy as sa

    from tandem.crypto import decrypt
    from tandem.models import Connection, Variable

    masker = SecretsMasker()

    def plain(stored: str | None, encrypted: bool = True) -> str | None:
        if not stored or not encrypted:
            return stored
        try:
            return decrypt(stored)
        except ValueError:  # encrypted with another key: unreadable here, so shown nowhere either
            return None

    for password, extra in session.execute(sa.select(Connection.password, Connection.extra)).tuples():
        masker.add(plain(password), "password")
        parsed = connection_extra_dict(plain(extra))
        if isinstance(parsed, dict | list):
            masker.add(parsed)
    for key, val, encrypted in session.execute(
        sa.select(Variable.key, Variable.val, Variable.is_encrypted)
    ).tuples():
        if is_sensitive_name(key, masker.names):
            value = plain(val, encrypted)
            masker.add(value, "secret")
            parsed = connection_extra_dict(value)
            if isinstance(parsed, dict | list):
                masker.add_all(parsed)
    return masker
