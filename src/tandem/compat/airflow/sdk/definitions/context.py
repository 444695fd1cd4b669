"""``airflow.sdk.definitions.context``."""

from __future__ import annotations

from tandem.sdk.context import Context, get_current_context

__all__ = ["Context", "get_current_context"]
