"""Variables and connections: the two places secrets are kept, encrypted with the fernet key."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.schemas.filters import Page, apply_order, paginate
from tandem.crypto import decrypt, encrypt
from tandem.models import Connection, Variable
from tandem.models.variable import set_variable
from tandem.secrets_masker import MASK, connection_extra_dict, is_sensitive_name, redact_extra

VARIABLE_ORDER = {"key": Variable.key, "description": Variable.description}
CONNECTION_ORDER = {"connection_id": Connection.conn_id, "conn_type": Connection.conn_type,
                    "host": Connection.host, "port": Connection.port, "description": Connection.description}


def list_variables(session: Session, p: Page) -> tuple[list[tuple[Variable, str]], int]:
    rows, total = paginate(session, apply_order(sa.select(Variable), p.order_by, VARIABLE_ORDER, [Variable.key]), p)
    return [(v, variable_value(v)) for v in rows], total


def variable_value(row: Variable) -> str:
    """The value as shown to any role: ``***`` when the key looks sensitive (a secret goes in, never out)."""
    if is_sensitive_name(row.key):
        return MASK
    if not row.is_encrypted:
        return row.val
    try:
        return decrypt(row.val)
    except ValueError:
        return "(cannot decrypt: encrypted with another fernet key)"


def read_variable(session: Session, key: str) -> tuple[Variable, str] | None:
    row = session.get(Variable, key)
    return (row, variable_value(row)) if row is not None else None


def write_variable(session: Session, key: str, value: str, description: str | None) -> tuple[Variable, str]:
    # A client sending back what it read sends ``***`` for a secret: that keeps the stored value.
    if value != MASK or not is_sensitive_name(key) or session.get(Variable, key) is None:
        set_variable(session, key, value, description=description)
    row = session.get(Variable, key)
    assert row is not None
    if description is not None:
        row.description = description
    return row, variable_value(row)


def list_connections(session: Session, p: Page) -> tuple[list[Connection], int]:
    query = apply_order(sa.select(Connection), p.order_by, CONNECTION_ORDER, [Connection.conn_id])
    return paginate(session, query, p)


def _plain_extra(row: Connection) -> str | None:
    return decrypt(row.extra) if row.extra is not None else None


def connection_extra(row: Connection) -> str | None:
    """The extra as shown to any role: values under sensitive keys are ``***``, like the password."""
    try:
        return redact_extra(_plain_extra(row))
    except ValueError:
        return "(cannot decrypt: encrypted with another fernet key)"


def _keep_masked(sent: str | None, stored: str | None) -> str | None:
    """A client that sends back an extra it read sends ``***`` for the secrets: keep the stored ones."""
    new, old = connection_extra_dict(sent), connection_extra_dict(stored)
    if not isinstance(new, dict) or not isinstance(old, dict):
        return sent

    def merge(n: Any, o: Any) -> Any:
        if n == MASK:
            return o
        if isinstance(n, dict) and isinstance(o, dict):
            return {k: merge(v, o.get(k)) for k, v in n.items()}
        return n

    return json.dumps(merge(new, old))


def _secret(value: str | None) -> str | None:
    return encrypt(value) if value else None


def create_connection(session: Session, conn_id: str, values: dict[str, object], password: str | None,
                      extra: str | None) -> Connection:
    if session.get(Connection, conn_id) is not None:
        raise ValueError(f"connection {conn_id!r} already exists")
    row = Connection(conn_id=conn_id, password=_secret(password), extra=_secret(extra), **values)
    session.add(row)
    session.flush()
    return row


def update_connection(session: Session, conn_id: str, values: dict[str, object], *, password: str | None = None,
                      extra: str | None = None, set_password: bool = False, set_extra: bool = False) -> Connection:
    row = session.get(Connection, conn_id)
    if row is None:
        raise LookupError(f"connection {conn_id!r} not found")
    for name, value in values.items():
        setattr(row, name, value)
    if set_password:
        row.password = _secret(password)
    if set_extra:
        row.extra = _secret(_keep_masked(extra, _plain_extra(row)))
    session.flush()
    return row
