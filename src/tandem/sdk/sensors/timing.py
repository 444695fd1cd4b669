"""Time sensors: wait until a moment relative to the run, or an absolute one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from tandem.sdk.sensors.base import BaseSensorOperator


class TimeDeltaSensor(BaseSensorOperator):
    """Wait until ``delta`` after the run's data interval end (its logical date for manual runs)."""

    def __init__(self, *, delta: timedelta, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delta = delta

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
