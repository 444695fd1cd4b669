"""``airflow.models.variable``."""

from __future__ import annotations

from tandem.sdk.variable import Variable

__all__ = ["Variable"]
