"""The logical dates a backfill runs: the DAG's own timetable between two dates, as in Airflow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tandem.sdk.timetables import DagRunInfo, DeltaTimetable, Timetable, timetable_for

# Schedules that have no series of intervals to fill (Airflow: "non-periodic schedule").
NON_PERIODIC = frozenset({"none", "once", "assets"})


class NotPeriodic(ValueError):
    """The DAG's schedule gives no dates to backfill (schedule=None, @once, assets)."""


def _grid_start(timetable: Timetable, from_date: datetime, anchor: datetime | None) -> datetime:
    """A fixed-delta grid is anchored at the DAG's start_date, so backfilled dates fall on the
    dates its scheduled runs have (and existing runs are recognised)."""
    if not isinstance(timetable, DeltaTimetable) or anchor is None or from_date <= anchor:
        return from_date
    steps = -((anchor - from_date) // timetable.delta)  # ceil
    return anchor + steps * timetable.delta


def backfill_infos(data: dict[str, Any], from_date: datetime, to_date: datetime, *, now: datetime,
                   limit: int) -> list[DagRunInfo]:
    """Runs with logical dates in [from_date, to_date] whose data interval ended before ``now``.

    Raises NotPeriodic for a schedule without intervals and ValueError past ``limit`` runs.
    """
    schedule = data.get("schedule") or {"kind": "none"}
    kind = schedule.get("kind")
    if kind in NON_PERIODIC:
        shown = {"none": "schedule=None", "once": "@once", "assets": "an asset schedule"}[kind]
        raise NotPeriodic(f"DAG {data['dag_id']!r} has a non-periodic schedule ({shown}) that does not support "
                          "backfills; trigger runs with a logical date instead")
    timetable = timetable_for(schedule, data.get("timezone") or "UTC")
    anchor = datetime.fromisoformat(data["start_date"]) if data.get("start_date") else None
    start = _grid_start(timetable, from_date, anchor)
    infos: list[DagRunInfo] = []
    info = timetable.next_dagrun_info(last_automated_interval=None, start_date=start, end_date=to_date,
                                      catchup=True, now=now)
    while info is not None and info.logical_date <= to_date:
        if info.data_interval.end >= now:
            break  # this interval has not ended yet, nor have the later ones
        infos.append(info)
        if len(infos) > limit:
            raise ValueError(f"the range {from_date.isoformat()} .. {to_date.isoformat()} gives more than {limit} "
                             "runs; backfill a shorter range at a time")
        info = timetable.next_dagrun_info(last_automated_interval=info.data_interval, start_date=start,
                                          end_date=to_date, catchup=True, now=now)
    return infos
