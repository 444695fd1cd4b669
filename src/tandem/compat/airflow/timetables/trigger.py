"""``airflow.timetables.trigger``."""

from __future__ import annotations

from tandem.sdk.timetable_specs import CronTriggerTimetable, DeltaTriggerTimetable

__all__ = ["CronTriggerTimetable", "DeltaTriggerTimetable"]
