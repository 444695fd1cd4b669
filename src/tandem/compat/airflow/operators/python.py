"""``airflow.operators.python``."""

from __future__ import annotations

from tandem.sdk.context import get_current_context
from tandem.sdk.operators.branch import BranchPythonOperator, ShortCircuitOperator
from tandem.sdk.operators.external_python import (
    BranchExternalPythonOperator,
    BranchPythonVirtualenvOperator,
    ExternalPythonOperator,
    PythonVirtualenvOperator,
)
from tandem.sdk.operators.python import PythonOperator

__all__ = [
    "BranchExternalPythonOperator", "BranchPythonOperator", "BranchPythonVirtualenvOperator",
    "ExternalPythonOperator", "PythonOperator", "PythonVirtualenvOperator", "ShortCircuitOperator",
    "get_current_context",
]
