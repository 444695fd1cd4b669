"""The calendar's day outcomes and planned days, and the line chart's geometry."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from tandem.api.ui.calendar import Day, _planned_days
from tandem.api.ui.line_chart import line_chart
from tandem.models import DagModel


def test_a_day_is_coloured_by_how_its_runs_ended() -> None:
    assert Day(date(2026, 1, 1)).outcome == "empty"
    assert Day(date(2026, 1, 1), planned=1).outcome == "planned"
    assert Day(date(2026, 1, 1), Counter(success=2)).outcome == "success"
    assert Day(date(2026, 1, 1), Counter(failed=1)).outcome == "failed"
    assert Day(date(2026, 1, 1), Counter(success=1, failed=1)).outcome == "mixed"
    assert Day(date(2026, 1, 1), Counter(success=1, running=1)).outcome == "running"
    assert Day(date(2026, 1, 1), Counter(queued=1)).outcome == "queued"
    assert Day(date(2026, 1, 1), Counter(success=1), planned=1).title == "2026-01-01: 1 success, 1 planned"


def test_planned_days_follow_the_timetable_to_the_end_of_the_year() -> None:
    # Given a daily DAG whose next run is on 2026-12-29 and an hourly one starting the 31st at 20:00
    data = {"schedule": {"kind": "cron", "expr": "0 0 * * *"}, "start_date": "2026-01-01T00:00:00+00:00",
            "end_date": None}
    dag = DagModel(dag_id="d", next_dagrun=datetime(2026, 12, 29, tzinfo=UTC),
                   next_dagrun_data_interval_start=datetime(2026, 12, 29, tzinfo=UTC),
                   next_dagrun_data_interval_end=datetime(2026, 12, 30, tzinfo=UTC))
    hourly = {**data, "schedule": {"kind": "cron", "expr": "0 * * * *"}}
    late = DagModel(dag_id="h", next_dagrun=datetime(2026, 12, 31, 20, tzinfo=UTC),
                    next_dagrun_data_interval_start=datetime(2026, 12, 31, 20, tzinfo=UTC),
                    next_dagrun_data_interval_end=datetime(2026, 12, 31, 21, tzinfo=UTC))
    end = datetime(2027, 1, 1, tzinfo=UTC)
    # Then every remaining day of the year is planned once, and the hourly DAG's last day 4 times
    assert _planned_days(dag, data, end) == Counter({date(2026, 12, d): 1 for d in (29, 30, 31)})
    assert _planned_days(late, hourly, end) == Counter({date(2026, 12, 31): 4})
    assert _planned_days(DagModel(dag_id="none", next_dagrun=None), data, end) == Counter()


def test_a_line_chart_has_one_series_per_task_and_a_nice_axis() -> None:
    chart = line_chart(["r1", "r2", "r3"], {"b": [1.0, None, 3.0], "a": [120.0, 240.0, 180.0]}, "duration")
    assert [s.name for s in chart.series] == ["a", "b"]
    assert len(chart.series[1].points) == 2  # no point where the task did not run
    assert chart.y_title == "duration (minutes)"
    assert chart.y_ticks[0][1] == "0" and float(chart.y_ticks[-1][1]) >= 4
    left, top, right, bottom = chart.plot
    assert all(left < p.x < right and top <= p.y <= bottom for s in chart.series for p in s.points)
    assert line_chart([], {}, "duration").series == []
