"""``airflow.utils.edgemodifier``."""

from __future__ import annotations

from tandem.sdk.dependency import EdgeModifier, Label

__all__ = ["EdgeModifier", "Label"]
