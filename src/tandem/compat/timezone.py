"""Time zone helpers of Airflow's ``airflow.utils.timezone`` and ``airflow.utils.dates``, on pendulum."""

from __future__ import annotations

import datetime as dt

import pendulum

utc = pendulum.UTC


def utcnow() -> pendulum.DateTime:
    return pendulum.now(utc)


def datetime(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
             microsecond: int = 0, tzinfo: dt.tzinfo | None = None) -> dt.datetime:
    """``datetime.datetime`` in UTC unless ``tzinfo`` says otherwise."""
    return dt.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=tzinfo or utc)


def parse(text: str, timezone: dt.tzinfo | None = None) -> pendulum.DateTime:
    parsed = pendulum.parse(text, tz=timezone or utc, strict=False)
    if not isinstance(parsed, pendulum.DateTime):
        raise TypeError(f"{text!r} is not a date and time")
    return parsed


def make_aware(value: dt.datetime, timezone: dt.tzinfo | None = None) -> dt.datetime:
    if value.tzinfo is not None:
        raise ValueError(f"make_aware expects a naive datetime, got {value}")
    return value.replace(tzinfo=timezone or utc)


def make_naive(value: dt.datetime, timezone: dt.tzinfo | None = None) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("make_naive() cannot be applied to a naive datetime")
    return value.astimezone(timezone or utc).replace(tzinfo=None)


def convert_to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=utc)
    return value.astimezone(utc)


def days_ago(n: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0) -> dt.datetime:
    """Midnight (or the given time) UTC ``n`` days ago (removed in Airflow 3, common in old files)."""
    today = utcnow().replace(hour=hour, minute=minute, second=second, microsecond=microsecond)
    return today - dt.timedelta(days=n)
