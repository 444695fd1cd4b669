"""``airflow.providers``: of the providers, Tandem ships ``standard``."""

from __future__ import annotations
