"""Import and export of variables, connections and pools as JSON files, in Airflow's formats.

- variables: ``{key: value}``, or ``{key: {"value": v, "description": d}}`` when a description
  is set (as ``airflow variables export`` writes them);
- connections: ``{conn_id: {conn_type, description, host, login, password, schema, port, extra}}``;
- pools: ``{name: {"slots": n, "description": d}}``.

An import checks the whole file before writing anything: a bad entry is an ``ImportRejected``
naming every entry at fault, and nothing is changed. What an export shows of a secret depends
on who asks: admins get values in clear (the file is a backup), anyone else ``***`` in their
place; importing ``***`` back keeps the stored secret, so a masked export round-trips.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tandem.crypto import decrypt
from tandem.limits import check_variable_size
from tandem.models import Connection, Pool, Variable
from tandem.models import queries as model_queries
from tandem.models.variable import get_variable_value
from tandem.secrets_masker import MASK, SecretsMasker, connection_extra_dict, is_sensitive_name, redact_extra

ON_EXISTING = ("overwrite", "skip", "fail")
CONNECTION_FIELDS = ("conn_type", "description", "host", "login", "password", "schema", "port", "extra")
MAX_ID = 250


class ImportRejected(ValueError):
    """The file cannot be imported; ``problems`` names each entry at fault."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        super().__init__(f"nothing was imported: {what} {shown}")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    skipped: int


def parse_file(text: str | bytes, what: str) -> dict[str, Any]:
    """The JSON object of a file, or ImportRejected saying where the JSON breaks."""
    try:
        data = json.loads(text)
    except UnicodeDecodeError:
        raise ImportRejected(f"the {what} file", ["is not UTF-8 text"]) from None
    except ValueError as e:
        raise ImportRejected(f"the {what} file", [f"is not valid JSON ({e})"]) from None
    if not isinstance(data, dict):
        raise ImportRejected(f"the {what} file", [f"must hold a JSON object of name -> entry, "
                                                  f"not a JSON {type(data).__name__}"])
    return data


def _check_id(name: str, problems: list[str]) -> bool:
    if not name.strip() or len(name) > MAX_ID:
        problems.append(f"entry {name[:60]!r}: the name must be 1-{MAX_ID} characters")
        return False
    return True


def _check_on_existing(on_existing: str) -> None:
    if on_existing not in ON_EXISTING:
        raise ValueError(f"on_existing must be one of {', '.join(ON_EXISTING)}, not {on_existing!r}")


# --- Variables -----------------------------------------------------------------------------


def _variable_entry(value: Any) -> tuple[str, str | None]:
    """(stored text, description): strings as-is, other JSON as JSON text (what ``get`` gives back)."""
    description = None
    if isinstance(value, dict) and "value" in value and "description" in value and len(value) == 2:
        value, description = value["value"], value["description"]
    text = value if isinstance(value, str) else json.dumps(value)
    return text, description if description is None else str(description)


def _exported_value(text: str) -> Any:
    """Objects and arrays go out as JSON, so that an import gives them back; other text stays text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict | list) else text


def export_variables(session: Session, *, reveal: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in model_queries.list_variables(session):
        if is_sensitive_name(row.key) and not reveal:
            value: Any = MASK
        else:
            try:
                value = _exported_value(get_variable_value(session, row.key) or "")
            except ValueError:
                value = MASK  # encrypted with another fernet key: unreadable here
        out[row.key] = {"value": value, "description": row.description} if row.description else value
    return out


def import_variables(session: Session, data: dict[str, Any], on_existing: str = "overwrite") -> ImportResult:
    # Here, not at the top: the CLI imports this module for every command, and the API's query
    # helpers bring FastAPI along (a seventh of a second on each command's start).
    from tandem.api.queries.secrets import write_variable

    _check_on_existing(on_existing)
    problems: list[str] = []
    entries = {}
    for key, value in data.items():
        if not _check_id(key, problems):
            continue
        if value is None:
            problems.append(f"variable {key!r}: the value is null")
            continue
        text, description = _variable_entry(value)
        try:
            check_variable_size(text)
        except ValueError as e:
            problems.append(f"variable {key!r}: {e}")
            continue
        entries[key] = (text, description)
    existing = {k for k in entries if session.get(Variable, k) is not None}
    problems.extend(f"variable {k!r}: the value is masked (***) and there is no stored value to keep"
                    for k, (text, _) in entries.items() if text == MASK and k not in existing)
    if on_existing == "fail" and existing:
        problems.extend(f"variable {k!r}: already exists" for k in sorted(existing))
    if problems:
        raise ImportRejected("the variables file:", problems)
    created = updated = skipped = 0
    for key, (text, description) in entries.items():
        if key in existing and on_existing == "skip":
            skipped += 1
            continue
        write_variable(session, key, text, description)
        created, updated = (created, updated + 1) if key in existing else (created + 1, updated)
    return ImportResult(created, updated, skipped)


# --- Connections ---------------------------------------------------------------------------


def _plain(stored: str | None) -> str | None:
    try:
        return decrypt(stored) if stored else None
    except ValueError:
        return MASK


def _has_mask(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_mask(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_mask(v) for v in value)
    return value == MASK


def export_connections(session: Session, *, reveal: bool) -> dict[str, Any]:
    masker = SecretsMasker()
    out: dict[str, Any] = {}
    for row in model_queries.list_connections(session):
        extra = _plain(row.extra)
        password = _plain(row.password)
        out[row.conn_id] = {
            "conn_type": row.conn_type, "description": row.description, "host": row.host, "login": row.login,
            "password": password if reveal or password is None else MASK, "schema": row.schema, "port": row.port,
            "extra": extra if reveal else redact_extra(extra, masker),
        }
    return out


def _connection_entry(conn_id: str, entry: Any, problems: list[str]) -> dict[str, Any] | None:
    where = f"connection {conn_id!r}"
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a JSON object of fields, not {type(entry).__name__}")
        return None
    unknown = sorted(set(entry) - set(CONNECTION_FIELDS))
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(CONNECTION_FIELDS)})")
        return None
    if not isinstance(entry.get("conn_type"), str) or not entry["conn_type"].strip():
        problems.append(f"{where}: conn_type is required")
        return None
    port = entry.get("port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535):
        problems.append(f"{where}: port must be an integer 0-65535, not {port!r}")
        return None
    extra = entry.get("extra")
    if isinstance(extra, dict | list):
        extra = json.dumps(extra)  # Airflow writes extra as text; some exporters write the object
    for field in ("description", "host", "login", "password", "schema"):
        if entry.get(field) is not None and not isinstance(entry[field], str):
            problems.append(f"{where}: {field} must be text or null")
            return None
    if extra is not None and not isinstance(extra, str):
        problems.append(f"{where}: extra must be JSON text, an object or null")
        return None
    return {f: entry.get(f) for f in CONNECTION_FIELDS} | {"extra": extra}


def import_connections(session: Session, data: dict[str, Any], on_existing: str = "overwrite") -> ImportResult:
    from tandem.api.queries.secrets import create_connection, update_connection  # see import_variables

    _check_on_existing(on_existing)
    problems: list[str] = []
    entries = {}
    for conn_id, entry in data.items():
        if _check_id(conn_id, problems) and (checked := _connection_entry(conn_id, entry, problems)) is not None:
            entries[conn_id] = checked
    existing = {c for c in entries if session.get(Connection, c) is not None}
    problems.extend(f"connection {c!r}: the password is masked (***) and there is no stored one to keep"
                    for c, e in entries.items() if e["password"] == MASK and c not in existing)
    problems.extend(f"connection {c!r}: extra holds masked values (***) and there is no stored extra to keep"
                    for c, e in entries.items() if c not in existing and _has_mask(connection_extra_dict(e["extra"])))
    if on_existing == "fail" and existing:
        problems.extend(f"connection {c!r}: already exists" for c in sorted(existing))
    if problems:
        raise ImportRejected("the connections file:", problems)
    created = updated = skipped = 0
    for conn_id, entry in entries.items():
        values = {f: entry[f] for f in ("conn_type", "description", "host", "login", "schema", "port")}
        if conn_id not in existing:
            create_connection(session, conn_id, values, entry["password"], entry["extra"])
            created += 1
        elif on_existing == "skip":
            skipped += 1
        else:
            # A masked export sends ``***`` back: that keeps the stored password (and masked extra keys).
            update_connection(session, conn_id, values, password=entry["password"], extra=entry["extra"],
                              set_password=entry["password"] != MASK, set_extra=True)
            updated += 1
    return ImportResult(created, updated, skipped)


# --- Pools ---------------------------------------------------------------------------------


def export_pools(session: Session) -> dict[str, Any]:
    return {p["name"]: {"slots": p["slots"], "description": p["description"]}
            for p in model_queries.list_pools(session)}


def import_pools(session: Session, data: dict[str, Any], on_existing: str = "overwrite") -> ImportResult:
    _check_on_existing(on_existing)
    problems: list[str] = []
    entries: dict[str, tuple[int, str | None]] = {}
    for name, entry in data.items():
        if not _check_id(name, problems):
            continue
        where = f"pool {name!r}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a JSON object with slots and description")
            continue
        slots, description = entry.get("slots"), entry.get("description")
        if not isinstance(slots, int) or isinstance(slots, bool) or not 0 <= slots <= 2**31 - 1:
            problems.append(f"{where}: slots must be an integer 0 or more, not {slots!r}")
        elif description is not None and not isinstance(description, str):
            problems.append(f"{where}: description must be text or null")
        else:
            entries[name] = (slots, description)
    existing = {n for n in entries if session.get(Pool, n) is not None}
    if on_existing == "fail" and existing:
        problems.extend(f"pool {n!r}: already exists" for n in sorted(existing))
    if problems:
        raise ImportRejected("the pools file:", problems)
    created = updated = skipped = 0
    for name, (slots, description) in entries.items():
        if name in existing and on_existing == "skip":
            skipped += 1
            continue
        model_queries.set_pool(session, name, slots, description)
        created, updated = (created, updated + 1) if name in existing else (created + 1, updated)
    return ImportResult(created, updated, skipped)
