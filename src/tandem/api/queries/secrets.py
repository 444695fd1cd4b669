"""Variables and connections: the two places secrets are kept, encrypted with the fernet key."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.schemas.filters import Page, apply_order, paginate
from tandem.crypto import decrypt, encrypt
from tandem.models import Connection, Variable
from tandem.models.variable import get_variable_value, set_variable

VARIABLE_ORDER = {"key": Variable.key, "description": Variable.description}
CONNECTION_ORDER = {"connection_id": Connection.conn_id, "conn_type": Connection.conn_type,
                    "host": Connection.host, "port": Connection.port, "description": Connection.description}


def list_variables(session: Session, p: Page) -> tuple[list[tuple[Variable, str]], int]:
    rows, total = paginate(session, apply_order(sa.select(Variable), p.order_by, VARIABLE_ORDER, [Variable.key]), p)
    return [(v, variable_value(v)) for v in rows], total


def variable_value(row: Variable) -> str:
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
    set_variable(session, key, value, description=description)
    row = session.get(Variable, key)
    assert row is not None
    return row, get_variable_value(session, key) or ""


def list_connections(session: Session, p: Page) -> tuple[list[Connection], int]:
    query = apply_order(sa.select(Connection), p.order_by, CONNECTION_ORDER, [Connection.conn_id])
    return paginate(session, query, p)


def connection_extra(row: Connection) -> str | None:
    if row.extra is None:
        return None
    try:
        return decrypt(row.extra)
    except ValueError:
        return "(cannot decrypt: encrypted with another fernet key)"


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
        row.extra = _secret(extra)
    session.flush()
    return row
