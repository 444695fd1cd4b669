"""Airflow 3 reads cron strings and timedeltas as trigger timetables; Tandem's DAGs keep Airflow 2's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tandem.compat.dag import DAG as AirflowDAG
from tandem.compat.dag import dag as airflow_dag
from tandem.sdk.dag import DAG
from tandem.sdk.timetables import DataInterval, timetable_for

START = datetime(2024, 1, 1, tzinfo=UTC)


def test_airflow_dags_read_cron_strings_and_deltas_as_triggers() -> None:
    assert AirflowDAG("a", schedule="@daily", start_date=START).schedule.kind == "cron_trigger"
    assert AirflowDAG("b", schedule="0 6 * * *", start_date=START).schedule.kind == "cron_trigger"
    assert AirflowDAG("c", schedule=timedelta(hours=2), start_date=START).schedule.kind == "delta_trigger"
    assert AirflowDAG("d", schedule="@once", start_date=START).schedule.kind == "once"
    assert DAG("e", schedule="@daily", start_date=START).schedule.kind == "cron"

    @airflow_dag(schedule="@hourly", start_date=START)
    def decorated() -> None: ...

    assert decorated().schedule.kind == "cron_trigger"


def test_cron_trigger_runs_at_each_tick_with_the_tick_as_logical_date() -> None:
    timetable = timetable_for({"kind": "cron_trigger", "expr": "@daily", "seconds": 0})
    now = datetime(2024, 3, 5, 10, tzinfo=UTC)
    first = timetable.next_dagrun_info(last_automated_interval=None, start_date=START, end_date=None,
                                       catchup=True, now=now)
    assert first is not None and first.logical_date == START == first.run_after
    latest = timetable.next_dagrun_info(last_automated_interval=None, start_date=START, end_date=None,
                                        catchup=False, now=now)
    assert latest is not None and latest.logical_date == datetime(2024, 3, 5, tzinfo=UTC)
    following = timetable.next_dagrun_info(last_automated_interval=latest.data_interval, start_date=START,
                                           end_date=None, catchup=False, now=now)
    assert following is not None and following.logical_date == datetime(2024, 3, 6, tzinfo=UTC)
    assert timetable.infer_manual_data_interval(now) == DataInterval(now, now)


def test_delta_trigger_runs_every_delta_from_start() -> None:
    timetable = timetable_for({"kind": "delta_trigger", "seconds": 7200})
    now = datetime(2024, 1, 1, 5, tzinfo=UTC)
    first = timetable.next_dagrun_info(last_automated_interval=None, start_date=START, end_date=None,
                                       catchup=True, now=now)
    assert first is not None and first.logical_date == START
    second = timetable.next_dagrun_info(last_automated_interval=first.data_interval, start_date=START,
                                        end_date=None, catchup=True, now=now)
    assert second is not None and second.logical_date == START + timedelta(hours=2)
    latest = timetable.next_dagrun_info(last_automated_interval=None, start_date=START, end_date=None,
                                        catchup=False, now=now)
    assert latest is not None and latest.logical_date == datetime(2024, 1, 1, 4, tzinfo=UTC)
