"""Password hashing with bcrypt.

bcrypt reads at most 72 bytes (and bcrypt 5 refuses longer input), so the password is first
reduced to a fixed-length SHA-256 digest, base64-encoded so that it holds no NUL byte — the
scheme Django calls ``BCryptSHA256``. The stored string says which scheme made it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from concurrent.futures import Future
from threading import Thread

import bcrypt

SCHEME = "bcrypt_sha256$"
ROUNDS = 12
# In $TANDEM_HOME: the first password of the admin ``tandem standalone`` creates.
STANDALONE_PASSWORD_FILE = "standalone_admin_password.txt"


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8", "surrogatepass")).digest())


def hash_password(password: str, *, rounds: int = ROUNDS) -> str:
    if not password:
        raise ValueError("a password cannot be empty")
    return SCHEME + bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, stored: str) -> bool:
    if not stored.startswith(SCHEME):
        return False
    try:
        return bcrypt.checkpw(_prehash(password), stored[len(SCHEME):].encode("ascii"))
    except ValueError:  # a corrupt stored hash is a failed login, not a crash
        return False


def hash_new_password_in_background() -> Future[tuple[str, str]]:
    """A random password and its hash, computed in a thread: bcrypt lets go of the GIL, so a
    start-up can import and build meanwhile instead of waiting a quarter second for it."""
    future: Future[tuple[str, str]] = Future()

    def compute() -> None:
        password = secrets.token_urlsafe(12)
        try:
            future.set_result((password, hash_password(password)))
        except BaseException as e:  # noqa: BLE001 - handed to whoever waits for the result
            future.set_exception(e)

    # Not a daemon: the interpreter waits for it at exit. A daemon thread still inside bcrypt's
    # C code when a start-up fails and exits aborts the process ("exception not rethrown").
    Thread(target=compute, name="tandem-hash-password").start()
    return future
