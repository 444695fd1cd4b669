"""Branches on the calendar: ``BranchDayOfWeekOperator``, ``BranchDateTimeOperator``, ``LatestOnlyOperator``."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

from tandem.sdk.operators.branch import BaseBranchOperator


class WeekDay(enum.IntEnum):
    """ISO week days, as Airflow's ``WeekDay``."""

    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7

    @classmethod
    def get_weekday_number(cls, week_day_str: str) -> int:
        try:
            return cls[week_day_str.upper()].value
        except KeyError:
            raise AttributeError(f'Invalid Week Day passed: "{week_day_str}"') from None

    @classmethod
    def convert(cls, day: str | WeekDay | Iterable[str | WeekDay]) -> set[int]:
        """A day (name or WeekDay) or several, as a set of ISO day numbers."""
        if isinstance(day, WeekDay):
            return {day.value}
        if isinstance(day, str):
            return {cls.get_weekday_number(day)}
        return set().union(*(cls.convert(d) for d in day))


def _moment(context: dict[str, Any], use_task_logical_date: bool) -> dt.datetime:
    """The logical date, or now in the DAG's time zone."""
    if use_task_logical_date:
        return context["logical_date"]
    return dt.datetime.now(context["dag"].timezone)


class BranchDayOfWeekOperator(BaseBranchOperator):
    """Follow ``follow_task_ids_if_true`` on the given week day(s), else ``follow_task_ids_if_false``."""

    def __init__(self, *, follow_task_ids_if_true: str | Iterable[str], follow_task_ids_if_false: str | Iterable[str],
                 week_day: str | WeekDay | Iterable[str | WeekDay], use_task_logical_date: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.week_day = week_day
        self.days = WeekDay.convert(week_day)
        self.use_task_logical_date = use_task_logical_date

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str]:
        today = _moment(context, self.use_task_logical_date).isoweekday()
        return self.follow_task_ids_if_true if today in self.days else self.follow_task_ids_if_false


class BranchDateTimeOperator(BaseBranchOperator):
    """Follow ``follow_task_ids_if_true`` when now (or the logical date) is within the targets.

    A target may be a datetime or a time of day; either bound may be None (open).
    """

    def __init__(self, *, follow_task_ids_if_true: str | Iterable[str], follow_task_ids_if_false: str | Iterable[str],
                 target_lower: dt.datetime | dt.time | None, target_upper: dt.datetime | dt.time | None,
                 use_task_logical_date: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if target_lower is None and target_upper is None:
            self._fail(f"task '{self.task_id}': target_lower and target_upper cannot both be None")
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.target_lower, self.target_upper = target_lower, target_upper
        self.use_task_logical_date = use_task_logical_date

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str]:
        now = _moment(context, self.use_task_logical_date)
        lower, upper = (self._on(now, t) for t in (self.target_lower, self.target_upper))
        if upper is not None and lower is not None and upper < lower:  # a window across midnight
            upper += dt.timedelta(days=1)
        inside = (lower is None or lower <= now) and (upper is None or now <= upper)
        return self.follow_task_ids_if_true if inside else self.follow_task_ids_if_false

    @staticmethod
    def _on(now: dt.datetime, target: dt.datetime | dt.time | None) -> dt.datetime | None:
        if target is None:
            return None
        if isinstance(target, dt.datetime):
            return target if target.tzinfo else target.replace(tzinfo=now.tzinfo)
        return dt.datetime.combine(now.date(), target, tzinfo=now.tzinfo)


class LatestOnlyOperator(BaseBranchOperator):
    """Skip the direct downstream tasks unless this run covers the latest schedule interval.

    Manual runs, and runs of DAGs with no further interval, always proceed (as in Airflow).
    """

    ui_color = "#e9ffdb"

    def choose_branch(self, context: dict[str, Any]) -> Iterable[str]:
        from tandem.sdk.timetables import DataInterval, timetable_for

        everything = sorted(self.downstream_task_ids)
        run = context.get("dag_run")
        if run is None or getattr(run, "run_type", "manual") == "manual" or self.dag is None:
            return everything
        start, end = context["data_interval_start"], context["data_interval_end"]
        timetable = timetable_for(self.dag.schedule.to_dict(), self.dag.timezone_name)
        now = dt.datetime.now(dt.UTC)
        following = timetable.next_dagrun_info(
            last_automated_interval=DataInterval(start, end), start_date=self.dag.start_date,
            end_date=None, catchup=True, now=now,
        )
        if following is None or end < now <= following.data_interval.end:
            return everything
        return []
