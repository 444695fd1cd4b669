"""``airflow.utils.context``."""

from __future__ import annotations

from tandem.sdk.context import Context

__all__ = ["Context"]
