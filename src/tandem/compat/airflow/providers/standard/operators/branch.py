"""``airflow.providers.standard.operators.branch``."""

from __future__ import annotations

from tandem.sdk.operators.branch import BaseBranchOperator

__all__ = ["BaseBranchOperator"]
