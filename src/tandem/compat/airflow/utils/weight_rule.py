"""``airflow.utils.weight_rule``."""

from __future__ import annotations

from tandem.sdk.weight_rule import WeightRule

__all__ = ["WeightRule"]
