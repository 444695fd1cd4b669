"""Helpers exposed to templates as ``{{ macros.* }}``."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import date, datetime, timedelta

import dateutil
import dateutil.relativedelta  # ``macros.dateutil.relativedelta`` works, as in Airflow

__all__ = ["date", "datetime", "dateutil", "ds_add", "ds_format", "json", "random", "time", "timedelta", "uuid"]


def ds_add(ds: str, days: int) -> str:
    """Add ``days`` (may be negative) to a ``YYYY-MM-DD`` date string."""
    return (datetime.strptime(ds, "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """Reformat a date string: ``ds_format("2024-01-05", "%Y-%m-%d", "%d/%m/%Y")``."""
    return datetime.strptime(ds, input_format).strftime(output_format)
