"""``airflow.sensors``: Airflow 2's sensor modules."""

from __future__ import annotations
