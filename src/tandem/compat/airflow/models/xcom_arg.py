"""``airflow.models.xcom_arg``."""

from __future__ import annotations

from tandem.sdk.xcom_arg import XComArg

__all__ = ["XComArg"]
