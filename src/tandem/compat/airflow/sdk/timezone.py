"""``airflow.sdk.timezone``: time zone helpers (pendulum based, as Airflow's)."""

from __future__ import annotations

from tandem.compat.timezone import convert_to_utc, datetime, make_aware, make_naive, parse, utc, utcnow

__all__ = ["convert_to_utc", "datetime", "make_aware", "make_naive", "parse", "utc", "utcnow"]
