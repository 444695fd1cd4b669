"""Users in the metadata DB: create, list, delete, reset passwords, check a login.

Every function takes the session first and does not commit (the caller's ``session_scope``
does). Errors are ``ValueError`` (bad input, duplicate) and ``LookupError`` (no such user), the
two the CLI's ``handle_errors`` and the API's error handlers already turn into messages.
"""

from __future__ import annotations

import os
import re
import secrets
from concurrent.futures import Future
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.auth.passwords import STANDALONE_PASSWORD_FILE, hash_password, verify_password
from tandem.api.auth.roles import RANK
from tandem.api.auth.throttle import check_not_blocked, record_failure, record_success, subjects
from tandem.config import Settings
from tandem.models import utcnow
from tandem.models.user import ApiToken, User

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@+-]{1,256}$")
# Checked against when the user is unknown or disabled, so that a login costs the same bcrypt
# work whether or not the user exists (no user enumeration by timing).
_EQUAL_WORK_HASH = "bcrypt_sha256$$2b$12$lTQZXOD7pBYFjJIo4UMsquSGGa/K08xTVOGoWO7okgABrXBcsIzHy"
STANDALONE_ADMIN = "admin"


def _check(username: str, role: str) -> None:
    if not USERNAME_RE.match(username):
        raise ValueError(f"invalid username {username!r}: use 1-256 letters, digits and _.@+-")
    if role not in RANK:
        raise ValueError(f"unknown role {role!r}: choose one of {', '.join(RANK)}")


def check_password_policy(password: str, username: str = "") -> None:
    """At least ``security.password_min_length`` characters, not the username, not one repeated character."""
    from tandem.config import get_settings

    minimum = get_settings().security.password_min_length
    if len(password) < minimum:
        raise ValueError(f"the password is too short: use at least {minimum} characters "
                         "(security.password_min_length)")
    if username and password.lower() == username.lower():
        raise ValueError("the password cannot be the username")
    if len(set(password)) < 3:
        raise ValueError("the password needs at least 3 different characters")


def create_user(session: Session, username: str, password: str, *, role: str, email: str = "",
                password_hash: str | None = None) -> User:
    """``password_hash``: ``password``'s hash, when it was computed already."""
    _check(username, role)
    check_password_policy(password, username)
    if read_user(session, username) is not None:
        raise ValueError(f"user {username!r} already exists")
    user = User(username=username, email=email, password_hash=password_hash or hash_password(password), role=role,
                active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def read_user(session: Session, username: str) -> User | None:
    return session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()


def list_users(session: Session) -> list[User]:
    return list(session.execute(sa.select(User).order_by(User.username)).scalars())


def _refuse_removing_last_admin(session: Session, user: User) -> None:
    """Without an active admin nobody could manage users again (short of the CLI on a server)."""
    others = session.execute(sa.select(sa.func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != user.id)).scalar_one()
    if user.role == "admin" and user.active and others == 0:
        raise ValueError(f"{user.username!r} is the last active admin: make another admin first")


def delete_user(session: Session, username: str) -> None:
    """Delete a user, their tokens and sessions (explicitly: SQLite may not cascade, and may reuse the id)."""
    from tandem.api.auth.session import end_user_sessions

    user = read_user(session, username)
    if user is None:
        raise LookupError(f"user {username!r} not found")
    _refuse_removing_last_admin(session, user)
    end_user_sessions(session, user.id)
    session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user.id))
    session.execute(sa.delete(User).where(User.id == user.id))


def update_user(session: Session, username: str, *, password: str | None = None, role: str | None = None,
                email: str | None = None, active: bool | None = None) -> User:
    """Change a user; a new password or disabling the user ends every session of theirs at once."""
    from tandem.api.auth.session import end_user_sessions

    user = read_user(session, username)
    if user is None:
        raise LookupError(f"user {username!r} not found")
    if (role is not None and role != "admin") or active is False:
        _refuse_removing_last_admin(session, user)
    if role is not None:
        _check(username, role)
        user.role = role
    if password is not None:
        check_password_policy(password, username)
        user.password_hash = hash_password(password)
        end_user_sessions(session, user.id)
    if email is not None:
        user.email = email
    if active is not None:
        user.active = active
        if not active:
            end_user_sessions(session, user.id)
    session.flush()
    return user


def reset_password(session: Session, username: str, password: str) -> None:
    update_user(session, username, password=password)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (never says which part was wrong).

    An unknown or disabled user costs the same bcrypt work as a known one.
    """
    user = read_user(session, username)
    if user is None or not user.active:
        verify_password(password, _EQUAL_WORK_HASH)
        return None
    if not verify_password(password, user.password_hash):
        return None
    return user


def log_in(session: Session, username: str, password: str, *, client: str, settings: Settings) -> User | None:
    """``authenticate`` behind the login throttle (raises LoginThrottled); records the outcome."""
    keys = subjects(username, client)
    check_not_blocked(session, keys)
    user = authenticate(session, username, password)
    if user is None:
        record_failure(session, keys, settings)
        return None
    record_success(session, username)
    return user


def ensure_standalone_admin(session: Session, home: Path,
                            prepared: Future[tuple[str, str]] | None = None) -> tuple[str, str | None]:
    """Create user ``admin`` with a random password on first run.

    Returns (username, password), the password being None when the admin already existed and
    the file holding its first password is gone. The password is kept in
    ``$TANDEM_HOME/standalone_admin_password.txt`` (mode 0600) so that a restart can print it
    again; it is never stored in clear in the DB. ``prepared``: a new password and its hash
    (``hash_new_password_in_background``), used if the admin is created.
    """
    path = home / STANDALONE_PASSWORD_FILE
    if read_user(session, STANDALONE_ADMIN) is not None:
        return STANDALONE_ADMIN, path.read_text().strip() if path.is_file() else None
    password, hashed = prepared.result() if prepared is not None else (secrets.token_urlsafe(12), None)
    create_user(session, STANDALONE_ADMIN, password, role="admin", password_hash=hashed)
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    path.chmod(0o600)
    return STANDALONE_ADMIN, password
