"""Operators for DAG files: ``from tandem.operators import PythonOperator, ...``.

A thin re-export of :mod:`tandem.sdk.operators` so DAG files do not depend on the
SDK's internal layout.
"""

from __future__ import annotations

from tandem.sdk.baseoperator import BaseOperator
from tandem.sdk.operators import (
    BashOperator,
    BranchPythonOperator,
    EmptyOperator,
    PythonOperator,
    ShortCircuitOperator,
)

__all__ = [
    "BaseOperator",
    "BashOperator",
    "BranchPythonOperator",
    "EmptyOperator",
    "PythonOperator",
    "ShortCircuitOperator",
]
