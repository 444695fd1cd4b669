"""``airflow.configuration``: ``conf`` reads ``AIRFLOW__SECTION__KEY`` settings."""

from __future__ import annotations

from tandem.compat.settings import conf

__all__ = ["conf"]
