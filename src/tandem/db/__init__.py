"""Metadata database access: engines, sessions, dialect differences and migrations.

The metadata DB is the only source of truth (ARCHITECTURE.md, invariant 1). Everything that
differs between SQLite, PostgreSQL and MySQL/MariaDB lives in ``dialects/``.
"""
