"""Airflow variables, connections and pools as Tandem rows.

Secrets are decrypted with Airflow's fernet key (a comma-separated list when Airflow rotated
keys, as in its ``[core] fernet_key``) and encrypted again with this cluster's key. Every secret
the key does not open is named in one error, so a wrong key costs one attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tandem.crypto import encrypt
from tandem.db.merge.airflow.notes import Notes
from tandem.db.merge.airflow.schema import AirflowSchema
from tandem.db.merge.errors import SecretError

# (what, token) pairs of one kind of secret: "variable 'x'", "connection 'y' password".
Secret = tuple[str, str]


def encrypted_secrets(conn: sa.Connection, schema: AirflowSchema) -> list[Secret]:
    """Every value Airflow stored encrypted."""
    variables, connections = schema.tables["variable"], schema.tables["connection"]
    found = [(f"variable {k!r}", v) for k, v in conn.execute(
        sa.select(variables.c.key, variables.c.val).where(variables.c.is_encrypted.is_(True)).order_by(variables.c.key))]
    for row in conn.execute(sa.select(connections).order_by(connections.c.conn_id)).mappings():
        if row["is_encrypted"] and row["password"] is not None:
            found.append((f"connection {row['conn_id']!r} password", row["password"]))
        if row["is_extra_encrypted"] and row["extra"] is not None:
            found.append((f"connection {row['conn_id']!r} extra", row["extra"]))
    return found


def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
    except ValueError:
        raise SecretError("the Airflow fernet key is not a valid fernet key "
                          "(32 url-safe base64-encoded bytes, or a comma-separated list of them)") from None


@dataclass
class AirflowSecrets:
    """Airflow's plain values of its secrets, and this cluster's key to store them with."""

    plain: dict[str, str] = field(default_factory=dict)
    target_key: str | None = None

    def store(self, what: str, value: str | None, encrypted: bool) -> str | None:
        """A value as Tandem stores it: encrypted with this cluster's key."""
        if value is None:
            return None
        text = self.plain[what] if encrypted else value
        if not self.target_key:
            raise SecretError(f"{what} is a secret and this cluster has no core.fernet_key to encrypt it with: "
                              "set one (`tandem config generate-key`)")
        return encrypt(text, key=self.target_key)


def open_secrets(conn: sa.Connection, schema: AirflowSchema, given: str | None, target_key: str | None,
                 ask: Callable[[], str] | None) -> AirflowSecrets:
    """Decrypt every Airflow secret up front; refuse, naming each one, if the key does not open them."""
    found = encrypted_secrets(conn, schema)
    if not found:
        return AirflowSecrets({}, target_key)
    if not given:
        if ask is None:
            raise SecretError(f"the Airflow database holds encrypted secrets ({found[0][0]}, ...): "
                              "give Airflow's [core] fernet_key with --airflow-fernet-key")
        given = ask().strip()
    fernet = _fernet(given)
    plain, failed = {}, []
    for what, token in found:
        try:
            plain[what] = fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            failed.append(what)
    if failed:
        raise SecretError(f"the Airflow fernet key does not decrypt {', '.join(failed)}: wrong key, or "
                          "encrypted with a key Airflow no longer lists. Nothing was written.")
    return AirflowSecrets(plain, target_key)


def read_variables(conn: sa.Connection, schema: AirflowSchema, secrets: AirflowSecrets) -> list[dict[str, Any]]:
    table = schema.tables["variable"]
    out = []
    for row in conn.execute(sa.select(table).order_by(table.c.key)).mappings():
        what = f"variable {row['key']!r}"
        encrypted = bool(row["is_encrypted"])
        if secrets.target_key:
            val = secrets.store(what, row["val"], encrypted)
        else:  # Tandem keeps variables in plain text without a key, as ``set_variable`` does.
            val = secrets.plain[what] if encrypted else row["val"]
        out.append({"key": row["key"], "val": val, "description": row["description"],
                    "is_encrypted": bool(secrets.target_key)})
    return out


def read_connections(conn: sa.Connection, schema: AirflowSchema, secrets: AirflowSecrets) -> list[dict[str, Any]]:
    table = schema.tables["connection"]
    out = []
    for row in conn.execute(sa.select(table).order_by(table.c.conn_id)).mappings():
        what = f"connection {row['conn_id']!r}"
        out.append({
            "conn_id": row["conn_id"], "conn_type": row["conn_type"] or "", "description": row["description"],
            "host": row["host"], "schema": row["schema"], "login": row["login"], "port": row["port"],
            "password": secrets.store(f"{what} password", row["password"], bool(row["is_encrypted"])),
            "extra": secrets.store(f"{what} extra", row["extra"], bool(row["is_extra_encrypted"])),
        })
    return out


def read_pools(conn: sa.Connection, schema: AirflowSchema, notes: Notes) -> list[dict[str, Any]]:
    table = schema.tables["slot_pool"]
    out = []
    for row in conn.execute(sa.select(table).order_by(table.c.pool)).mappings():
        if row.get("include_deferred"):
            notes.add("pool", row["pool"], "include_deferred (deferred tasks take slots) has no Tandem equivalent",
                      "imported without it")
        out.append({"name": row["pool"], "slots": row["slots"], "description": row["description"]})
    return out
