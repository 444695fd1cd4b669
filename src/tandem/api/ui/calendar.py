"""The calendar of a DAG: one cell per day of a year, coloured by how that day's runs ended.

A day's outcome: ``success`` when every run succeeded, ``failed`` when every finished run
failed, ``mixed`` when both happened, ``running``/``queued`` while a run is unfinished. Days
with no run but one the timetable will create are ``planned``: the calendar walks the timetable
from the DAG's next run, as the scheduler would, up to the end of the year shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import DagModel, DagRun
from tandem.sdk.timetables import DataInterval, timetable_for

CELL = 13
TOP = 18
LEFT = 28
# Enough for an hourly DAG over a year; a faster schedule shows planned days until this many runs.
MAX_PLANNED_RUNS = 9000


@dataclass
class Day:
    day: date
    counts: Counter[str] = field(default_factory=Counter)
    planned: int = 0
    x: int = 0
    y: int = 0

    @property
    def outcome(self) -> str:
        c = self.counts
        if not c:
            return "planned" if self.planned else "empty"
        if c["running"]:
            return "running"
        if c["queued"] and not (c["success"] or c["failed"]):
            return "queued"
        if c["failed"] and c["success"]:
            return "mixed"
        return "failed" if c["failed"] else "success" if c["success"] else "queued"

    @property
    def title(self) -> str:
        parts = [f"{n} {s}" for s, n in sorted(self.counts.items())]
        if self.planned:
            parts.append(f"{self.planned} planned")
        return f"{self.day.isoformat()}: " + (", ".join(parts) if parts else "no run")


@dataclass
class Calendar:
    year: int
    days: list[Day]
    months: list[tuple[int, str]]
    width: int
    height: int
    totals: Counter[str]


def _planned_days(dag: DagModel, data: dict[str, Any], until: datetime) -> Counter[date]:
    out: Counter[date] = Counter()
    if dag.next_dagrun is None or dag.next_dagrun_data_interval_start is None or dag.next_dagrun_data_interval_end is None:
        return out
    try:
        timetable = timetable_for(data["schedule"], data.get("timezone") or "UTC")
    except (KeyError, ValueError):
        return out
    logical = dag.next_dagrun
    interval = DataInterval(dag.next_dagrun_data_interval_start, dag.next_dagrun_data_interval_end)
    for _ in range(MAX_PLANNED_RUNS):
        if logical >= until:
            break
        out[logical.astimezone(UTC).date()] += 1
        info = timetable.next_dagrun_info(last_automated_interval=interval, start_date=data.get("start_date"),
                                          end_date=data.get("end_date"), catchup=True, now=until)
        if info is None or info.logical_date <= logical:
            break
        logical, interval = info.logical_date, info.data_interval
    return out


def build_calendar(session: Session, dag: DagModel, data: dict[str, Any], year: int) -> Calendar:
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    first = start.date()
    days = [Day(first + timedelta(days=i)) for i in range((end - start).days)]
    by_day = {d.day: d for d in days}
    totals: Counter[str] = Counter()
    for logical_date, state in session.execute(
        sa.select(DagRun.logical_date, DagRun.state)
        .where(DagRun.dag_id == dag.dag_id, DagRun.logical_date >= start, DagRun.logical_date < end)
    ).tuples():
        by_day[logical_date.astimezone(UTC).date()].counts[state] += 1
        totals[state] += 1
    for day, n in _planned_days(dag, data, end).items():
        if day in by_day:
            by_day[day].planned = n
            totals["planned"] += n
    # Weeks are columns starting on Monday; the first column holds the days before the first Monday.
    offset = first.weekday()
    months: list[tuple[int, str]] = []
    for d in days:
        index = (d.day - first).days + offset
        d.x, d.y = LEFT + (index // 7) * CELL, TOP + (index % 7) * CELL
        if d.day.day == 1:
            months.append((d.x, d.day.strftime("%b")))
    weeks = (len(days) + offset + 6) // 7
    return Calendar(year, days, months, LEFT + weeks * CELL + 4, TOP + 7 * CELL + 4, totals)
