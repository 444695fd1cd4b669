"""Timetable objects and a time zone-aware start date; the data interval is in the context."""

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from airflow.timetables.trigger import CronTriggerTimetable

PARIS = pendulum.timezone("Europe/Paris")

with DAG(
    "af_timetables",
    schedule=CronTriggerTimetable("0 6 * * 1-5", timezone=PARIS, interval=timedelta(hours=1)),
    start_date=pendulum.datetime(2024, 1, 1, tz=PARIS),
    catchup=False,
) as trigger_dag:

    @task
    def interval(data_interval_start=None, data_interval_end=None) -> None:
        assert data_interval_end - data_interval_start == timedelta(hours=1), (data_interval_start, data_interval_end)

    interval()

with DAG(
    "af_timetables_cron_interval",
    schedule=CronDataIntervalTimetable("30 2 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
) as cron_dag:

    @task
    def nothing() -> None:
        pass

    nothing()

with DAG(
    "af_timetables_delta",
    schedule=DeltaDataIntervalTimetable(timedelta(hours=6)),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
) as delta_dag:

    @task
    def six_hours(data_interval_start=None, data_interval_end=None) -> None:
        assert data_interval_end - data_interval_start == timedelta(hours=6)

    six_hours()
