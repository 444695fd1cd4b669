"""``airflow.models.connection``."""

from __future__ import annotations

from tandem.sdk.connection import Connection

__all__ = ["Connection"]
