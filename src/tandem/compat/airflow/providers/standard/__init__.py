"""``airflow.providers.standard``: the operators and sensors Airflow 3 ships."""

from __future__ import annotations
