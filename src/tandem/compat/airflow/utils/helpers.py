"""``airflow.utils.helpers``."""

from __future__ import annotations

from tandem.sdk.dependency import chain, cross_downstream

__all__ = ["chain", "cross_downstream"]
