"""``airflow.providers.standard.operators.trigger_dagrun``."""

from __future__ import annotations

from tandem.sdk.operators.trigger_dagrun import TriggerDagRunOperator

__all__ = ["TriggerDagRunOperator"]
