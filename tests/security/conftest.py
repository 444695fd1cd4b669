"""The security tests run against the same real api-server (SQLite and PostgreSQL) as tests/api."""

from tests.api.conftest import admin, api  # noqa: F401  (fixtures)
