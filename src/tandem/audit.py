"""The audit log: every write made through the API, the UI or the CLI, kept in the metadata DB.

Who (username, or the OS user for the CLI), what (method and route, or the CLI command), when,
from where (client address or host name) and how it ended (HTTP status or exit code). Written
after the action, in a transaction of its own, so that an action that failed is recorded too and
a failure to record never undoes an action. Secrets in CLI arguments are masked before storage.
"""

from __future__ import annotations

import getpass
import logging
import socket
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.db.session import session_scope
from tandem.models import utcnow
from tandem.models.security import AuditLog
from tandem.secrets_masker import MASK, is_sensitive_name

log = logging.getLogger(__name__)

# CLI commands that change something, by group: what `tandem <group> <command>` records.
CLI_WRITES: dict[str, frozenset[str]] = {
    "users": frozenset({"create", "delete", "reset-password"}),
    "tokens": frozenset({"create", "revoke"}),
    "variables": frozenset({"set", "delete", "import"}),
    "connections": frozenset({"add", "delete", "import"}),
    "pools": frozenset({"set", "delete", "import"}),
    "dags": frozenset({"pause", "unpause", "trigger", "delete"}),
    "tasks": frozenset({"clear", "run"}),
    "bundles": frozenset({"gc"}),
    "backfill": frozenset({"create", "pause", "unpause", "cancel"}),
}


def record(engine: Engine, *, username: str, via: str, client: str, action: str, target: str = "",
           status: int | None = None, details: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    """Store one entry; a DB failure is logged, never raised (the action itself already happened)."""
    try:
        with session_scope(engine) as session:
            session.add(AuditLog(at=now or utcnow(), username=username[:256], via=via, client=client[:300],
                                 action=action[:100], target=target[:1000], status=status, details=details))
    except sa.exc.SQLAlchemyError as e:
        log.warning("could not record %s %s by %s in the audit log: %s", action, target, username, e)


def masked_arguments(args: Sequence[str]) -> list[str]:
    """CLI arguments with the values of secret-looking options (``--password``, ``-p``, ``--conn-uri``) masked."""
    out: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        name, eq, _ = arg.partition("=")
        secret = name.startswith("-") and (is_sensitive_name(name) or name in ("-p", "--conn-uri", "--uri"))
        if secret and eq:
            out.append(f"{name}={MASK}")
        else:
            out.append(arg)
            hide_next = secret
    return out


def is_cli_write(argv: Sequence[str]) -> bool:
    """True for ``tandem <group> <command> …`` that changes something (see CLI_WRITES), help aside."""
    words = [a for a in argv if not a.startswith("-")]
    if "--help" in argv or "-h" in argv or len(words) < 2:
        return False
    return words[1] in CLI_WRITES.get(words[0], frozenset())


def record_cli(engine: Engine, argv: Sequence[str], exit_code: int) -> None:
    words = [a for a in argv if not a.startswith("-")]
    record(engine, username=getpass.getuser(), via="cli", client=socket.gethostname(),
           action=f"{words[0]} {words[1]}", target=" ".join(masked_arguments(argv[2:])) if len(argv) > 2 else "",
           status=exit_code)
