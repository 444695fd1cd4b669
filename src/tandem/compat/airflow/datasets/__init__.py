"""``airflow.datasets``: Airflow 2's name for assets."""

from __future__ import annotations

from tandem.sdk.assets import Asset as Dataset
from tandem.sdk.assets import AssetAll as DatasetAll
from tandem.sdk.assets import AssetAny as DatasetAny

__all__ = ["Dataset", "DatasetAll", "DatasetAny"]
