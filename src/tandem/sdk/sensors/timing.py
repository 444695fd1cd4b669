"""Time sensors: wait until a moment relative to the run, or an absolute one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, ClassVar

from tandem.sdk.sensors.base import BaseSensorOperator


class TimeDeltaSensor(BaseSensorOperator):
    """Wait until ``delta`` after the run's data interval end (its logical date for manual runs)."""

    def __init__(self, *, delta: timedelta, end_from_trigger: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delta = delta
        self.end_from_trigger = end_from_trigger  # accepted: there is no trigger to end from

    def poke(self, context: dict[str, Any]) -> bool:
        base = context.get("data_interval_end") or context["logical_date"]
        return datetime.now(UTC) >= base + self.delta


class DateTimeSensor(BaseSensorOperator):
    """Wait until ``target_time`` (a datetime, or an ISO string, templated)."""

    template_fields: ClassVar[Sequence[str]] = ("target_time",)

    def __init__(self, *, target_time: str | datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(target_time, (str, datetime)):
            self._fail(f"task '{self.task_id}': target_time must be a datetime or a string")
        self.target_time = target_time

    def poke(self, context: dict[str, Any]) -> bool:
        target = self.target_time
        if isinstance(target, str):
            target = datetime.fromisoformat(target)
        if target.tzinfo is None:
            target = target.replace(tzinfo=UTC)
        return datetime.now(UTC) >= target


class TimeSensor(BaseSensorOperator):
    """Wait until the time of day ``target_time`` (in the DAG's time zone) today."""

    def __init__(self, *, target_time: time, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_time = target_time

    def poke(self, context: dict[str, Any]) -> bool:
        now = datetime.now(context["dag"].timezone)
        return now.time().replace(tzinfo=None) >= self.target_time.replace(tzinfo=None)


class DayOfWeekSensor(BaseSensorOperator):
    """Wait until the week day is one of ``week_day`` (now, or the logical date's)."""

    def __init__(self, *, week_day: str | Iterable[str], use_task_logical_date: bool = False, **kwargs: Any) -> None:
        from tandem.sdk.operators.calendar import WeekDay

        super().__init__(**kwargs)
        self.week_day = week_day
        self.days = WeekDay.convert(week_day)
        self.use_task_logical_date = use_task_logical_date

    def poke(self, context: dict[str, Any]) -> bool:
        moment = context["logical_date"] if self.use_task_logical_date else datetime.now(context["dag"].timezone)
        return moment.isoweekday() in self.days
