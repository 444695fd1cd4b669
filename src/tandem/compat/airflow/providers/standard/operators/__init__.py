"""``airflow.providers.standard.operators``."""

from __future__ import annotations
