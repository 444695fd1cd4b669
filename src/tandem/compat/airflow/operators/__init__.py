"""``airflow.operators``: Airflow 2's operator modules."""

from __future__ import annotations
