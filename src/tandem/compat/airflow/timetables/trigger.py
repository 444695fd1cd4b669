"""``airflow.timetables.trigger``."""

from __future__ import annotations

from tandem.sdk.timetable_specs import CronTriggerTimetable

__all__ = ["CronTriggerTimetable"]
