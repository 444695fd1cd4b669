"""Timetable objects a DAG file passes as ``schedule`` (Airflow's classes, by their names).

Each turns into a serialized :class:`~tandem.sdk.schedule.Schedule`; the scheduler's
:mod:`tandem.sdk.timetables` computes the runs. Cron expressions are evaluated in the DAG's
time zone, so a ``timezone`` given here must match it (or be the DAG's only one).
"""

from __future__ import annotations

from datetime import timedelta, tzinfo
from typing import Any

from tandem.sdk.schedule import Schedule, parse_schedule


class TimetableSpec:
    """A schedule given as an object; :meth:`to_schedule` is what the DAG stores."""

    timezone: str | tzinfo | None = None

    def to_schedule(self) -> Schedule:
        raise NotImplementedError


class CronDataIntervalTimetable(TimetableSpec):
    """Airflow 2's cron semantics: a run covers ``[tick, next tick)`` and starts at its end."""

    def __init__(self, cron: str, timezone: str | tzinfo | None = None) -> None:
        self.cron, self.timezone = cron, timezone

    def to_schedule(self) -> Schedule:
        return parse_schedule(self.cron)


class CronTriggerTimetable(TimetableSpec):
    """A run at every cron tick, with that tick as logical date; ``interval`` back is its data."""

    def __init__(self, cron: str, *, timezone: str | tzinfo | None = None,
                 interval: timedelta = timedelta(0), run_immediately: bool | timedelta = False) -> None:
        self.cron, self.timezone, self.interval = cron, timezone, interval
        self.run_immediately = run_immediately

    def to_schedule(self) -> Schedule:
        parsed = parse_schedule(self.cron)
        if parsed.kind != "cron":
            raise ValueError(f"CronTriggerTimetable needs a cron expression, got {self.cron!r}")
        return Schedule("cron_trigger", expr=parsed.expr, seconds=self.interval.total_seconds())


class DeltaDataIntervalTimetable(TimetableSpec):
    """Runs every ``delta`` from start_date, each covering the ``delta`` before it."""

    def __init__(self, delta: timedelta) -> None:
        self.delta = delta

    def to_schedule(self) -> Schedule:
        return parse_schedule(self.delta)


class DeltaTriggerTimetable(TimetableSpec):
    """A run every ``delta`` from start_date, with its trigger time as logical date (Airflow 3)."""

    def __init__(self, delta: timedelta, *, interval: timedelta = timedelta(0)) -> None:
        if delta <= timedelta(0):
            raise ValueError(f"DeltaTriggerTimetable needs a positive delta, got {delta}")
        if interval:
            raise ValueError("DeltaTriggerTimetable(interval=...) is not supported by Tandem")
        self.delta, self.interval = delta, interval

    def to_schedule(self) -> Schedule:
        return Schedule("delta_trigger", seconds=self.delta.total_seconds())


def spec_timezone(schedule: Any) -> str | tzinfo | None:
    """The time zone a timetable object names, if any (the DAG adopts it when it has none)."""
    return schedule.timezone if isinstance(schedule, TimetableSpec) else None
