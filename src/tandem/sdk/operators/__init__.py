"""Built-in operators. DAG files import them from :mod:`tandem.operators`."""

from __future__ import annotations

from tandem.sdk.operators.bash import BashOperator
from tandem.sdk.operators.branch import BranchPythonOperator, ShortCircuitOperator
from tandem.sdk.operators.empty import EmptyOperator
from tandem.sdk.operators.python import PythonOperator

__all__ = ["BashOperator", "BranchPythonOperator", "EmptyOperator", "PythonOperator", "ShortCircuitOperator"]
