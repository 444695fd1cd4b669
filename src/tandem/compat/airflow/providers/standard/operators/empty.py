"""``airflow.providers.standard.operators.empty``."""

from __future__ import annotations

from tandem.sdk.operators.empty import EmptyOperator

__all__ = ["EmptyOperator"]
