"""Login throttling: per username and per client address, with exponential backoff, shared by replicas.

After ``security.login_free_failures`` consecutive failures of a username (or
``security.login_free_failures_per_client`` of a client address), each further failure
blocks it for twice as long as the previous one, up to ``security.login_backoff_max_seconds``.
A blocked subject's attempts are refused before the password is checked. A success clears the
username's counter only: a guesser with one valid account cannot reset its address's counter.
The counters are rows in the metadata DB, so every replica applies the same ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.config import Settings
from tandem.models import utcnow
from tandem.models.security import LoginFailure


class LoginThrottled(Exception):
    """Too many failed logins: the caller must wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after:.0f} s")
        self.retry_after = retry_after


def subjects(username: str, client: str) -> list[str]:
    return [f"user:{username.lower()}"[:300], f"client:{client}"[:300]]


def check_not_blocked(db: Session, keys: list[str], *, now: datetime | None = None) -> None:
    now = now or utcnow()
    until = db.execute(
        sa.select(sa.func.max(LoginFailure.blocked_until)).where(LoginFailure.subject.in_(keys))
    ).scalar_one_or_none()
    if until is not None and until > now:
        raise LoginThrottled((until - now).total_seconds())


def record_failure(db: Session, keys: list[str], settings: Settings, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    for key in keys:
        free = (settings.security.login_free_failures_per_client if key.startswith("client:")
                else settings.security.login_free_failures)
        row = db.get(LoginFailure, key, with_for_update=True)
        if row is None:
            try:
                with db.begin_nested():
                    db.add(LoginFailure(subject=key, failures=0, last_failure_at=now))
            except sa.exc.IntegrityError:  # another replica added it first
                pass
            row = db.get(LoginFailure, key, with_for_update=True, populate_existing=True)
            assert row is not None
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= free:
            wait = min(2.0 ** (row.failures - free), settings.security.login_backoff_max_seconds)
            row.blocked_until = now + timedelta(seconds=wait)
    db.flush()


def record_success(db: Session, username: str) -> None:
    db.execute(sa.delete(LoginFailure).where(LoginFailure.subject == subjects(username, "")[0]))
