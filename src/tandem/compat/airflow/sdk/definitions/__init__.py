"""``airflow.sdk.definitions``."""

from __future__ import annotations
