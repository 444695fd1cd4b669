"""``airflow.providers.standard.utils``."""

from __future__ import annotations
