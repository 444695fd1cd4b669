from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tandem.sdk.timetables import DagRunInfo, DataInterval, timetable_for


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


CRON_DAILY = {"kind": "cron", "expr": "0 0 * * *", "seconds": None, "summary": "0 0 * * *"}
FAR_FUTURE = utc(2100, 1, 1)


def next_info(
    schedule: dict,
    last: DataInterval | None = None,
    *,
    start: datetime | None = utc(2024, 1, 1),
    end: datetime | None = None,
    catchup: bool = True,
    now: datetime = FAR_FUTURE,
    tz: str = "UTC",
) -> DagRunInfo | None:
    return timetable_for(schedule, tz).next_dagrun_info(
        last_automated_interval=last, start_date=start, end_date=end, catchup=catchup, now=now
    )


def test_cron_catchup_walks_every_interval() -> None:
    first = next_info(CRON_DAILY)
    assert first == DagRunInfo(
        utc(2024, 1, 1), DataInterval(utc(2024, 1, 1), utc(2024, 1, 2)), utc(2024, 1, 2)
    )
    second = next_info(CRON_DAILY, first.data_interval)
    assert second is not None and second.data_interval == DataInterval(utc(2024, 1, 2), utc(2024, 1, 3))


def test_cron_first_interval_aligns_after_unaligned_start_date() -> None:
    info = next_info(CRON_DAILY, start=utc(2024, 1, 1, 10, 30))
    assert info is not None and info.logical_date == utc(2024, 1, 2)


def test_cron_without_catchup_starts_from_latest_complete_interval() -> None:
    now = utc(2024, 1, 10, 12)
    info = next_info(CRON_DAILY, catchup=False, now=now)
    assert info is not None and info.data_interval == DataInterval(utc(2024, 1, 9), utc(2024, 1, 10))
    # After that run, the next one is the current (incomplete) interval, runnable in the future.
    following = next_info(CRON_DAILY, info.data_interval, catchup=False, now=now)
    assert following is not None and following.logical_date == utc(2024, 1, 10)
    assert following.run_after == utc(2024, 1, 11) > now
    # Missed intervals after a long pause are skipped too.
    resumed = next_info(CRON_DAILY, info.data_interval, catchup=False, now=utc(2024, 2, 1, 5))
    assert resumed is not None and resumed.logical_date == utc(2024, 1, 31)


def test_no_catchup_never_goes_before_start_date() -> None:
    info = next_info(CRON_DAILY, start=utc(2024, 6, 1), catchup=False, now=utc(2024, 1, 1))
    assert info is not None and info.logical_date == utc(2024, 6, 1)


def test_end_date_stops_scheduling() -> None:
    last = DataInterval(utc(2024, 1, 1), utc(2024, 1, 2))
    assert next_info(CRON_DAILY, last, end=utc(2024, 1, 2)) is not None
    assert next_info(CRON_DAILY, last, end=utc(2024, 1, 1, 12)) is None


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("@hourly", utc(2024, 1, 1, 0), utc(2024, 1, 1, 1)),
        ("@daily", utc(2024, 1, 1), utc(2024, 1, 2)),
        ("@weekly", utc(2024, 1, 7), utc(2024, 1, 14)),
        ("@monthly", utc(2024, 1, 1), utc(2024, 2, 1)),
        ("@yearly", utc(2024, 1, 1), utc(2025, 1, 1)),
    ],
)
def test_presets(preset: str, start: datetime, end: datetime) -> None:
    info = next_info({"kind": "cron", "expr": preset, "seconds": None, "summary": preset})
    assert info is not None and info.data_interval == DataInterval(start, end)
    assert timetable_for({"kind": "cron", "expr": preset}).summary == preset


def test_timedelta_schedule() -> None:
    schedule = {"kind": "timedelta", "expr": None, "seconds": 300.0}
    start = utc(2024, 1, 1, 0, 1)
    first = next_info(schedule, start=start)
    assert first is not None and first.data_interval == DataInterval(start, start + timedelta(minutes=5))
    second = next_info(schedule, first.data_interval, start=start)
    assert second is not None and second.logical_date == start + timedelta(minutes=5)
    # Without catchup: the latest complete interval on the start_date grid.
    late = next_info(schedule, start=start, catchup=False, now=utc(2024, 1, 1, 1, 3))
    assert late is not None and late.data_interval == DataInterval(
        utc(2024, 1, 1, 0, 56), utc(2024, 1, 1, 1, 1)
    )
    assert timetable_for(schedule).summary == "every 0:05:00"


def test_once_and_none() -> None:
    once = {"kind": "once", "expr": "@once", "seconds": None}
    first = next_info(once)
    assert first == DagRunInfo(
        utc(2024, 1, 1), DataInterval(utc(2024, 1, 1), utc(2024, 1, 1)), utc(2024, 1, 1)
    )
    assert next_info(once, first.data_interval) is None
    assert next_info({"kind": "none"}) is None
    assert next_info(CRON_DAILY, start=None) is None


def test_daily_cron_follows_local_midnight_across_dst() -> None:
    # Europe/Amsterdam switches to CEST at 2024-03-31 02:00 local: that day has 23 hours.
    first = next_info(CRON_DAILY, start=utc(2024, 3, 29, 23), tz="Europe/Amsterdam")
    assert first is not None
    assert first.data_interval == DataInterval(utc(2024, 3, 29, 23), utc(2024, 3, 30, 23))
    second = next_info(CRON_DAILY, first.data_interval, start=utc(2024, 3, 29, 23), tz="Europe/Amsterdam")
    assert second is not None
    assert second.data_interval == DataInterval(utc(2024, 3, 30, 23), utc(2024, 3, 31, 22))
    assert all(dt.tzinfo is UTC for dt in (second.logical_date, second.run_after))


def test_hourly_cron_keeps_one_hour_steps_through_fall_back() -> None:
    hourly = {"kind": "cron", "expr": "@hourly"}
    start = utc(2024, 10, 26, 23)
    last = None
    starts = []
    for _ in range(6):  # CEST -> CET at 2024-10-27 01:00 UTC
        info = next_info(hourly, last, start=start, tz="Europe/Amsterdam")
        assert info is not None
        starts.append(info.logical_date)
        last = info.data_interval
    assert starts == [start + timedelta(hours=h) for h in range(6)]


def test_nonexistent_local_time_runs_after_the_gap() -> None:
    cron = {"kind": "cron", "expr": "30 2 * * *"}
    first = next_info(cron, start=utc(2024, 3, 30, 1, 30), tz="Europe/Amsterdam")
    assert first is not None and first.logical_date == utc(2024, 3, 30, 1, 30)
    # 02:30 does not exist on 2024-03-31; the run happens at 03:30 CEST (01:30 UTC).
    assert first.run_after == utc(2024, 3, 31, 1, 30)


def test_manual_data_intervals() -> None:
    daily = timetable_for(CRON_DAILY)
    assert daily.infer_manual_data_interval(utc(2024, 1, 5, 10)) == DataInterval(
        utc(2024, 1, 4), utc(2024, 1, 5)
    )
    assert daily.infer_manual_data_interval(utc(2024, 1, 5)) == DataInterval(utc(2024, 1, 4), utc(2024, 1, 5))
    run_after = utc(2024, 1, 5, 10)
    delta = timetable_for({"kind": "timedelta", "seconds": 3600.0})
    assert delta.infer_manual_data_interval(run_after) == DataInterval(
        run_after - timedelta(hours=1), run_after
    )
    for schedule in ({"kind": "none"}, {"kind": "once", "expr": "@once"}):
        assert timetable_for(schedule).infer_manual_data_interval(run_after) == DataInterval(
            run_after, run_after
        )


def test_naive_and_iso_string_inputs_are_utc() -> None:
    info = timetable_for(CRON_DAILY).next_dagrun_info(
        last_automated_interval=None,
        start_date="2024-01-01T00:00:00+00:00",
        end_date=None,
        catchup=True,
        now=datetime(2024, 1, 5),
    )
    assert info is not None and info.logical_date == utc(2024, 1, 1)
