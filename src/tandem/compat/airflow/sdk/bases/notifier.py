"""``airflow.sdk.bases.notifier``."""

from __future__ import annotations

from tandem.sdk.notifier import BaseNotifier

__all__ = ["BaseNotifier"]
