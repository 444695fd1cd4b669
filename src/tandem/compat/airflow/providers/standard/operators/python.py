"""``airflow.providers.standard.operators.python``."""

from __future__ import annotations

from tandem.sdk.context import get_current_context
from tandem.sdk.operators.branch import BranchPythonOperator, ShortCircuitOperator
from tandem.sdk.operators.python import PythonOperator

__all__ = ["BranchPythonOperator", "PythonOperator", "ShortCircuitOperator", "get_current_context"]
