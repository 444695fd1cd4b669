"""``airflow.hooks.base``."""

from __future__ import annotations

from tandem.sdk.connection import BaseHook

__all__ = ["BaseHook"]
