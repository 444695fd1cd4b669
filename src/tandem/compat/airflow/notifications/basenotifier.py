"""``airflow.notifications.basenotifier``."""

from __future__ import annotations

from tandem.sdk.notifier import BaseNotifier

__all__ = ["BaseNotifier"]
