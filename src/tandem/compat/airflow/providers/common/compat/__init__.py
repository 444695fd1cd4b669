"""``airflow.providers.common.compat``."""

from __future__ import annotations
