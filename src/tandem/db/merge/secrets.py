"""Secrets of the other instance: finding its fernet key, decrypting, re-encrypting for this one.

Fernet tokens of one plain value differ at every encryption (random IV, timestamp), so
secrets are compared by their plain text, never by their tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine

from tandem.crypto import decrypt, encrypt
from tandem.db.merge.errors import SecretError
from tandem.db.merge.rows import table_of
from tandem.models import Connection, Variable


def _can_decrypt(token: str, key: str | None) -> bool:
    if not key:
        return False
    try:
        decrypt(token, key=key)
    except ValueError:
        return False
    return True


def find_sample_secret(source: Engine) -> tuple[str, str] | None:
    """One encrypted value of the source, as (description, token), or None when it holds none."""
    conn_t, var_t = table_of(Connection), table_of(Variable)
    with source.connect() as conn:
        for column in (conn_t.c.password, conn_t.c.extra):
            row = conn.execute(sa.select(conn_t.c.conn_id, column).where(column.is_not(None)).limit(1)).first()
            if row is not None:
                return f"connection {row[0]!r} {column.name}", row[1]
        row = conn.execute(sa.select(var_t.c.key, var_t.c.val).where(var_t.c.is_encrypted.is_(True)).limit(1)).first()
        if row is not None:
            return f"variable {row[0]!r}", row[1]
    return None


def resolve_source_key(source: Engine, given: str | None, target_key: str | None,
                       ask: Callable[[], str] | None) -> str | None:
    """The fernet key of the other instance, checked against one of its secrets.

    Order: ``--from-fernet-key``; else this cluster's key when it opens the other side's
    secrets (same key); else ``ask`` (a hidden prompt). A key that does not decrypt is refused
    here, before the merge reads or writes anything else.
    """
    sample = find_sample_secret(source)
    if sample is None:
        return given or target_key
    what, token = sample
    if given is None and _can_decrypt(token, target_key):
        return target_key
    if given is None:
        if ask is None:
            raise SecretError("the other instance holds encrypted secrets and this cluster's fernet key does not "
                              "decrypt them: give the other instance's key with --from-fernet-key")
        given = ask().strip()
    try:
        Fernet(given.encode())
    except ValueError:
        raise SecretError("the other instance's fernet key is not a valid fernet key "
                          "(32 url-safe base64-encoded bytes)") from None
    if not _can_decrypt(token, given):
        raise SecretError(f"the other instance's fernet key does not decrypt its {what}: wrong key? "
                          "Nothing was written.")
    return given


@dataclass(frozen=True)
class SecretCodec:
    source_key: str | None
    target_key: str | None

    @property
    def same_key(self) -> bool:
        return bool(self.source_key) and self.source_key == self.target_key

    def source_plain(self, token: str, what: str) -> str:
        if not self.source_key:
            raise SecretError(f"{what} of the other instance is encrypted and no fernet key was given for it")
        try:
            return decrypt(token, key=self.source_key)
        except ValueError:
            raise SecretError(f"the other instance's fernet key does not decrypt its {what}: wrong key, or "
                              "that secret was encrypted with an older key. Nothing was written.") from None

    def target_plain(self, token: str) -> str | None:
        """This side's plain value, or None when it cannot be decrypted (then it never matches)."""
        try:
            return decrypt(token, key=self.target_key) if self.target_key else None
        except ValueError:
            return None

    def reencrypt(self, token: str, what: str) -> str:
        """The source token as this cluster stores it: unchanged when both keys are the same."""
        if self.same_key:
            return token
        if not self.target_key:
            raise SecretError(f"{what} is encrypted on the other instance but this cluster has no core.fernet_key "
                              "to encrypt it with: set one (`tandem config generate-key`)")
        return encrypt(self.source_plain(token, what), key=self.target_key)
