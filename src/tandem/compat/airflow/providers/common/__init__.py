"""``airflow.providers.common``."""

from __future__ import annotations
