"""``airflow.timetables.interval``."""

from __future__ import annotations

from tandem.sdk.timetable_specs import CronDataIntervalTimetable, DeltaDataIntervalTimetable

__all__ = ["CronDataIntervalTimetable", "DeltaDataIntervalTimetable"]
