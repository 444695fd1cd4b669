"""``airflow.models.baseoperator``."""

from __future__ import annotations

from tandem.sdk.baseoperator import BaseOperator
from tandem.sdk.dependency import chain, chain_linear, cross_downstream

__all__ = ["BaseOperator", "chain", "chain_linear", "cross_downstream"]
