"""``Connection`` and ``BaseHook``: credentials for external systems (Airflow's API)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from tandem.exceptions import NotFound
from tandem.sdk import secrets


class Connection:
    """A connection's fields; ``extra`` is a JSON string (``extra_dejson`` parses it)."""

    def __init__(self, conn_id: str | None = None, conn_type: str | None = None, description: str | None = None,
                 host: str | None = None, login: str | None = None, password: str | None = None,
                 schema: str | None = None, port: int | None = None, extra: str | dict[str, Any] | None = None,
                 uri: str | None = None) -> None:
        self.conn_id = conn_id
        self.conn_type = conn_type
        self.description = description
        self.host = host
        self.login = login
        self.password = password
        self.schema = schema
        self.port = port
        self.extra = json.dumps(extra) if isinstance(extra, dict) else extra
        if uri is not None:
            self._parse_uri(uri)

    def _parse_uri(self, uri: str) -> None:
        parts = urlsplit(uri)
        if not parts.scheme:
            raise ValueError(f"connection {self.conn_id!r}: {uri!r} is not a URI (no scheme)")
        self.conn_type = parts.scheme.replace("-", "_")
        self.host = unquote(parts.hostname) if parts.hostname else None
        self.login = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.port = parts.port
        self.schema = unquote(parts.path.lstrip("/")) or None
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if "__extra__" in query:
            self.extra = query["__extra__"]
        elif query:
            self.extra = json.dumps(query)

    @classmethod
    def from_json(cls, value: str, conn_id: str | None = None) -> Connection:
        fields = json.loads(value)
        if not isinstance(fields, dict):
            raise TypeError(f"connection {conn_id!r}: JSON must be an object")
        fields.pop("conn_id", None)
        return cls(conn_id=conn_id, **fields)

    @property
    def extra_dejson(self) -> dict[str, Any]:
        if not self.extra:
            return {}
        try:
            value = json.loads(self.extra)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def get_uri(self) -> str:
        uri = f"{(self.conn_type or '').replace('_', '-')}://"
        if self.login or self.password:
            uri += quote(self.login or "", safe="")
            if self.password:
                uri += ":" + quote(self.password, safe="")
            uri += "@"
        uri += self.host or ""
        if self.port:
            uri += f":{self.port}"
        if self.schema:
            uri += "/" + quote(self.schema, safe="")
        if self.extra_dejson:
            uri += "?" + urlencode(self.extra_dejson)
        return uri

    @classmethod
    def get(cls, conn_id: str) -> Connection:
        """The connection ``conn_id``; raises :class:`~tandem.exceptions.NotFound` when absent."""
        found = secrets.get_connection_fields(conn_id)
        if found is None:
            raise NotFound(f"The conn_id `{conn_id}` isn't defined")
        if isinstance(found, dict):
            return cls(conn_id=conn_id, **found)
        text = found.strip()
        return cls.from_json(text, conn_id) if text.startswith("{") else cls(conn_id=conn_id, uri=text)

    def __repr__(self) -> str:
        return f"<Connection {self.conn_id} ({self.conn_type})>"


class BaseHook:
    """Base class of hooks; ``BaseHook.get_connection(conn_id)`` is what DAG files use."""

    def __init__(self, logger_name: str | None = None) -> None:
        self.logger_name = logger_name

    @classmethod
    def get_connection(cls, conn_id: str) -> Connection:
        return Connection.get(conn_id)

    def get_conn(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement get_conn()")
