"""``airflow.sdk.definitions.asset``."""

from __future__ import annotations

from tandem.sdk.assets import Asset, AssetAlias, AssetAll, AssetAny

__all__ = ["Asset", "AssetAlias", "AssetAll", "AssetAny"]
