"""``tandem users`` / ``tandem tokens`` in a subprocess, and the standalone admin."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine


def tandem(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tandem", *args], capture_output=True, text=True, timeout=60, check=False,
                          env=dict(os.environ), input=input_text)


def test_users_and_tokens_commands(engine: Engine) -> None:
    created = tandem("users", "create", "--username", "alice", "--password", "alice-Pass-1", "--role", "op",
                     "--email", "a@example.com")
    assert created.returncode == 0, created.stderr
    assert "created with role op" in created.stdout
    duplicate = tandem("users", "create", "-u", "alice", "-p", "alice-Pass-1", "-r", "op")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    bad_role = tandem("users", "create", "-u", "bob", "-p", "bob-Pass-1", "-r", "root")
    assert bad_role.returncode == 2
    rows = json.loads(tandem("users", "list", "-o", "json").stdout)
    assert [(r["username"], r["role"], r["email"]) for r in rows] == [("alice", "op", "a@example.com")]
    token = tandem("tokens", "create", "--username", "alice", "--expires-in-days", "2")
    assert token.returncode == 0 and token.stdout.strip().startswith("tdm_")
    assert tandem("tokens", "create", "-u", "nobody").returncode == 1
    prompted = tandem("users", "reset-password", "-u", "alice", input_text="alice-Pass-2\nalice-Pass-2\n")
    assert prompted.returncode == 0, prompted.stderr

    from tandem.api.auth.tokens import user_for_token
    from tandem.api.auth.users import authenticate
    from tandem.db.session import session_scope

    with session_scope(engine) as session:
        assert authenticate(session, "alice", "alice-Pass-2") is not None
        assert authenticate(session, "alice", "alice-Pass-1") is None
        user = user_for_token(session, token.stdout.strip())
        assert user is not None and user.username == "alice"
    assert tandem("users", "delete", "-u", "alice").returncode == 0
    missing = tandem("users", "delete", "-u", "alice")
    assert missing.returncode == 1 and "not found" in missing.stderr
    with session_scope(engine) as session:
        assert user_for_token(session, token.stdout.strip()) is None


def test_random_password(engine: Engine) -> None:
    result = tandem("users", "create", "-u", "carol", "--use-random-password", "-r", "viewer")
    assert result.returncode == 0
    password = result.stdout.strip().splitlines()[-1].removeprefix("Password: ")
    from tandem.api.auth.users import authenticate
    from tandem.db.session import session_scope

    with session_scope(engine) as session:
        assert authenticate(session, "carol", password) is not None


def test_ensure_standalone_admin(engine: Engine, tandem_home: Path) -> None:
    from tandem.api.auth.users import authenticate, ensure_standalone_admin
    from tandem.db.session import session_scope

    with session_scope(engine) as session:
        username, password = ensure_standalone_admin(session, tandem_home)
    path = tandem_home / "standalone_admin_password.txt"
    assert username == "admin" and password and path.read_text().strip() == password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with session_scope(engine) as session:
        assert authenticate(session, "admin", password) is not None
        assert ensure_standalone_admin(session, tandem_home) == ("admin", password)  # idempotent
    path.unlink()
    with session_scope(engine) as session:
        assert ensure_standalone_admin(session, tandem_home) == ("admin", None)


def test_expired_token_is_refused(engine: Engine) -> None:
    from datetime import timedelta

    from tandem.api.auth.tokens import create_token, user_for_token
    from tandem.api.auth.users import create_user
    from tandem.db.session import session_scope
    from tandem.models import utcnow

    with session_scope(engine) as session:
        user = create_user(session, "dave", "dave-Pass-1", role="viewer")
        token = create_token(session, user, expires_in_days=1, now=utcnow() - timedelta(days=2))
        assert user_for_token(session, token) is None
        fresh = create_token(session, user, expires_in_days=1)
        assert user_for_token(session, fresh) is not None
