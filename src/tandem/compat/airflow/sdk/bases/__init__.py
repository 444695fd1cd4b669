"""``airflow.sdk.bases``."""

from __future__ import annotations
