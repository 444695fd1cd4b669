"""``airflow.macros``."""

from __future__ import annotations

from tandem.sdk.macros import ds_add, ds_format

__all__ = ["ds_add", "ds_format"]
