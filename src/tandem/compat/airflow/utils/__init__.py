"""``airflow.utils``."""

from __future__ import annotations
