"""``airflow.models.param``."""

from __future__ import annotations

from tandem.sdk.params import Param, ParamsDict

__all__ = ["Param", "ParamsDict"]
