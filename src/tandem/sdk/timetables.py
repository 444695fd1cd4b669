"""When DAG runs happen, computed from a *serialized* schedule (Airflow 2 semantics).

A periodic run covers a data interval ``[start, end)``; its logical date is the
interval start and it may run once the interval has ended (``run_after = end``).
Cron expressions are evaluated in the DAG's time zone so that "0 2 * * *" stays
at 02:00 local time across DST changes; every returned datetime is aware UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tandem.sdk.schedule import cron_expression


@dataclass(frozen=True)
class DataInterval:
    """The period of data a run processes: ``[start, end)``."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class DagRunInfo:
    """The next automated run: its logical date, interval and earliest start time."""

    logical_date: datetime
    data_interval: DataInterval
    run_after: datetime


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Timetable:
    """Base timetable: never schedules anything (``schedule=None``)."""

    summary = "None"

    def next_dagrun_info(
        self,
        *,
        last_automated_interval: DataInterval | None,
        start_date: datetime | str | None,
        end_date: datetime | str | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        """The next run after ``last_automated_interval`` (None: no more runs).

        The result may lie in the future: the scheduler compares ``run_after`` with now.
        """
        return None

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        """Data interval of a run triggered by hand at ``run_after``."""
        run_after = _utc(run_after)  # type: ignore[assignment]
        return DataInterval(run_after, run_after)


class OnceTimetable(Timetable):
    """``@once``: a single run at ``start_date``."""

    summary = "@once"

    def next_dagrun_info(
        self,
        *,
        last_automated_interval: DataInterval | None,
        start_date: Any,
        end_date: Any,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        start, end = _utc(start_date), _utc(end_date)
        if last_automated_interval is not None or start is None or (end is not None and start > end):
            return None
        return DagRunInfo(start, DataInterval(start, start), start)


class _PeriodicTimetable(Timetable):
    """Shared logic of cron and fixed-delta schedules; subclasses define the grid."""

    def _next(self, t: datetime) -> datetime:
        """The first grid point strictly after ``t``."""
        raise NotImplementedError

    def _prev(self, t: datetime) -> datetime:
        """The last grid point strictly before ``t``."""
        raise NotImplementedError

    def _align_up(self, t: datetime) -> datetime:
        return t if self._on_grid(t) else self._next(t)

    def _align_down(self, t: datetime) -> datetime:
        return t if self._on_grid(t) else self._prev(t)

    def _on_grid(self, t: datetime) -> bool:
        return self._next(self._prev(t)) == t

    def _latest_complete_start(self, now: datetime) -> datetime:
        """Start of the latest interval that has fully ended at ``now``."""
        return self._prev(self._align_down(now))

    def next_dagrun_info(
        self,
        *,
        last_automated_interval: DataInterval | None,
        start_date: Any,
        end_date: Any,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        earliest, latest, utc_now = _utc(start_date), _utc(end_date), _utc(now)
        assert utc_now is not None
        now = utc_now
        if earliest is None:
            return None  # scheduled DAGs require a start_date; nothing to align to
        earliest = self._align_up(earliest)
        if last_automated_interval is None:
            start = earliest
        else:
            start = max(self._align_down(_utc(last_automated_interval.end)), earliest)  # type: ignore[arg-type]
        if not catchup:
            # Skip missed intervals but never go back before the last run or start_date.
            start = max(start, self._latest_complete_start(now))
        if latest is not None and start > latest:
            return None
        end = self._next(start)
        return DagRunInfo(start, DataInterval(start, end), end)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        run_after = _utc(run_after)  # type: ignore[assignment]
        end = self._align_down(run_after)
        return DataInterval(self._prev(end), end)


class CronTimetable(_PeriodicTimetable):
    """A cron expression (or preset) evaluated in an IANA time zone."""

    def __init__(self, expr: str, timezone_name: str) -> None:
        from croniter import croniter

        self.summary = expr
        self.expression = cron_expression(expr)
        self.tz = ZoneInfo(timezone_name)
        self._croniter = croniter
        # Crons firing every hour must advance in absolute time across DST changes,
        # otherwise the repeated/missing local hour breaks the hourly rhythm.
        self._every_hour = croniter(self.expression).expanded[1] == ["*"]

    def _step(self, t: datetime, forward: bool) -> datetime:
        local = t.astimezone(self.tz)
        naive = local.replace(tzinfo=None)
        it = self._croniter(self.expression, naive)
        target = it.get_next(datetime) if forward else it.get_prev(datetime)
        if self._every_hour:
            # Add the wall-clock step in UTC: aware + timedelta in a local zone is
            # wall-clock arithmetic and would jump over the repeated hour.
            return t.astimezone(UTC) + (target - naive)
        # fold=0: an ambiguous local time means its first occurrence; a nonexistent one
        # (spring forward gap) maps to the equivalent instant after the gap.
        return target.replace(tzinfo=self.tz).astimezone(UTC)

    def _next(self, t: datetime) -> datetime:
        return self._step(t, forward=True)

    def _prev(self, t: datetime) -> datetime:
        return self._step(t, forward=False)


class CronTriggerTimetable(CronTimetable):
    """A run at each cron tick: logical date = the tick, data interval ``[tick - interval, tick]``.

    Airflow 3's ``CronTriggerTimetable``: without catchup only the latest tick (at or before
    now) is run, later ticks follow as they come.
    """

    def __init__(self, expr: str, timezone_name: str, interval_seconds: float = 0.0) -> None:
        super().__init__(expr, timezone_name)
        self.interval = timedelta(seconds=interval_seconds)

    def next_dagrun_info(
        self,
        *,
        last_automated_interval: DataInterval | None,
        start_date: Any,
        end_date: Any,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        earliest, latest, current = _utc(start_date), _utc(end_date), _utc(now)
        assert current is not None
        if earliest is None:
            return None
        tick = self._align_up(earliest)
        if last_automated_interval is not None:
            tick = max(tick, self._next(_utc(last_automated_interval.end)))  # type: ignore[arg-type]
        if not catchup:
            tick = max(tick, self._align_down(current))
        if latest is not None and tick > latest:
            return None
        return DagRunInfo(tick, DataInterval(tick - self.interval, tick), tick)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        run_after = _utc(run_after)  # type: ignore[assignment]
        return DataInterval(run_after - self.interval, run_after)


class DeltaTimetable(_PeriodicTimetable):
    """A fixed ``timedelta`` schedule; the grid is anchored at the DAG's start_date."""

    def __init__(self, seconds: float, anchor: datetime | None = None) -> None:
        self.delta = timedelta(seconds=seconds)
        self.summary = f"every {self.delta}"
        self._anchor = anchor

    def next_dagrun_info(
        self,
        *,
        last_automated_interval: DataInterval | None,
        start_date: Any,
        end_date: Any,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        # The grid depends on start_date, so compute on an anchored copy (no shared state).
        anchored = DeltaTimetable(self.delta.total_seconds(), _utc(start_date))
        return _PeriodicTimetable.next_dagrun_info(
            anchored,
            last_automated_interval=last_automated_interval,
            start_date=start_date,
            end_date=end_date,
            catchup=catchup,
            now=now,
        )

    def _next(self, t: datetime) -> datetime:
        anchor = self._anchor or t
        steps = (t - anchor) // self.delta
        return anchor + (steps + 1) * self.delta

    def _prev(self, t: datetime) -> datetime:
        anchor = self._anchor or t
        point = anchor + ((t - anchor) // self.delta) * self.delta
        return point - self.delta if point == t else point

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        run_after = _utc(run_after)  # type: ignore[assignment]
        return DataInterval(run_after - self.delta, run_after)


class DeltaTriggerTimetable(DeltaTimetable):
    """A run every ``delta`` from start_date; logical date = its trigger time, a point interval."""

    def next_dagrun_info(
        self,
        *,
        last_automated_interval: DataInterval | None,
        start_date: Any,
        end_date: Any,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        anchor, latest, current = _utc(start_date), _utc(end_date), _utc(now)
        assert current is not None
        if anchor is None:
            return None
        anchored = DeltaTriggerTimetable(self.delta.total_seconds(), anchor)
        tick = anchor
        if last_automated_interval is not None:
            tick = max(tick, anchored._next(_utc(last_automated_interval.end)))  # type: ignore[arg-type]
        if not catchup and current > tick:
            tick = max(tick, anchored._align_down(current))
        if latest is not None and tick > latest:
            return None
        return DagRunInfo(tick, DataInterval(tick, tick), tick)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        run_after = _utc(run_after)  # type: ignore[assignment]
        return DataInterval(run_after, run_after)


def timetable_for(schedule: dict[str, Any], timezone_name: str = "UTC") -> Timetable:
    """The timetable for a serialized ``schedule`` dict (see serialization)."""
    kind = schedule["kind"]
    if kind in ("none", "assets"):  # asset-scheduled DAGs run when their assets update, not on a clock
        return Timetable()
    if kind == "asset_or_time":  # the clock part; the scheduler's asset pass does the rest
        return timetable_for(json.loads(schedule["expr"])["time"], timezone_name)
    if kind == "once":
        return OnceTimetable()
    if kind == "cron":
        return CronTimetable(schedule["expr"], timezone_name)
    if kind == "cron_trigger":
        return CronTriggerTimetable(schedule["expr"], timezone_name, float(schedule["seconds"] or 0))
    if kind == "timedelta":
        return DeltaTimetable(float(schedule["seconds"]))
    if kind == "delta_trigger":
        return DeltaTriggerTimetable(float(schedule["seconds"]))
    raise ValueError(f"unknown schedule kind {kind!r}")
