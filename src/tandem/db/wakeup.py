"""Wake-ups between nodes: work finished or created anywhere wakes every scheduler at once.

Where the database can (PostgreSQL's NOTIFY, delivered with the commit, so a woken scheduler
sees the change), whoever commits an outcome or a new run also sends a wake-up, and each
scheduler listens on a dedicated connection. Elsewhere nothing is sent and schedulers fall
back to ``poll_interval``; a local executor wakes its own scheduler through its pipes anyway.
A wake-up is only a hint: the database stays the source of truth, and a lost one costs at
most a poll interval.
"""

from __future__ import annotations

import functools
import logging
import select
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tandem.db.dialects import BaseDialect, dialect_for, dialect_of

log = logging.getLogger(__name__)

CHANNEL = "tandem_wakeup"


def notify(session: Session, sender: str = "") -> None:
    """Wake the schedulers once this transaction commits (``sender``: a node that learns of
    this change otherwise, and ignores the wake-up)."""
    statement = dialect_of(session).wakeup_statement(CHANNEL, sender)
    if statement is not None:
        session.execute(statement)


def notify_now(engine: Engine, sender: str = "") -> None:
    """Wake the schedulers now, after a commit made elsewhere: one autocommit round trip, sent
    once whoever waits on the commit's outcome has been told (so it is off the hop's path).
    A failure is only logged: the wake-up is a hint, and peers poll anyway."""
    statement = _engine_dialect(engine).wakeup_statement(CHANNEL, sender)
    if statement is None:
        return
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(statement)
    except Exception as e:  # noqa: BLE001 - see above
        log.warning("could not wake the other schedulers (%s); they will poll", e)


@functools.cache
def _engine_dialect(engine: Engine) -> BaseDialect:
    # Once per engine: ``notify_now`` runs after every recorded outcome.
    return dialect_for(engine.url.render_as_string(hide_password=False))


class Listener:
    """A dedicated listening connection; ``fileno`` turns readable when a wake-up came."""

    def __init__(self, connection: Any, ignore: str) -> None:
        self._conn = connection
        self._ignore = ignore

    @classmethod
    def open(cls, engine: Engine, ignore: str = "") -> Listener | None:
        """A listener on ``engine``'s database; None where it has none, or when connecting
        failed (the caller polls instead)."""
        try:
            conn = dialect_for(engine.url.render_as_string(hide_password=False)).listen(engine, CHANNEL)
        except Exception as e:  # noqa: BLE001 - wake-ups are an optimisation: poll instead
            log.warning("cannot listen for wake-ups (%s); polling every poll_interval instead", e)
            return None
        return None if conn is None else cls(conn, ignore)

    def fileno(self) -> int:
        return int(self._conn.fileno())

    def ready(self, timeout: float = 0.0) -> bool:
        """Whether a wake-up from another node came (within ``timeout``); consumes all pending.
        Raises when the connection broke (the caller drops the listener)."""
        if not select.select([self._conn], [], [], timeout)[0]:
            return False
        woken = False
        for note in self._conn.notifies(timeout=0):
            woken = woken or note.payload != self._ignore
        return woken

    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:  # noqa: BLE001 - already broken
            pass
