"""Airflow 3's ``DAG`` and ``@dag``: Tandem's, with Airflow 3's meaning of schedule strings.

In Airflow 3 a cron string or preset runs at each tick with that tick as its logical date
(``CronTriggerTimetable``), and a timedelta likewise (``DeltaTriggerTimetable``); Tandem's own
DAGs keep Airflow 2's data-interval meaning. DAG files importing ``airflow`` get Airflow 3's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tandem.sdk import asset_decorator, dag_decorator
from tandem.sdk import dag as tandem_dag
from tandem.sdk.schedule import CRON_PRESETS, parse_schedule
from tandem.sdk.timetable_specs import CronTriggerTimetable, DeltaTriggerTimetable


def airflow3_schedule(schedule: Any) -> Any:
    """A cron string or timedelta as Airflow 3 reads it; anything else unchanged."""
    if isinstance(schedule, str) and (schedule.strip() in CRON_PRESETS or parse_schedule(schedule).kind == "cron"):
        return CronTriggerTimetable(schedule.strip())
    if isinstance(schedule, timedelta):
        return DeltaTriggerTimetable(schedule)
    return schedule


class DAG(tandem_dag.DAG):
    """:class:`tandem.sdk.dag.DAG` with Airflow 3's reading of ``schedule`` (see module doc)."""

    def __init__(self, dag_id: str, *, schedule: Any = None, **kwargs: Any) -> None:
        if "schedule_interval" in kwargs:  # Airflow 2's spelling
            schedule = kwargs.pop("schedule_interval")
        super().__init__(dag_id, schedule=airflow3_schedule(schedule), **kwargs)


def dag(dag_id: Any = None, **kwargs: Any) -> Callable[..., Any]:
    """Airflow's ``@dag`` (see module doc)."""
    if callable(dag_id):  # bare @dag
        return dag_decorator.dag(dag_class=DAG)(dag_id)
    return dag_decorator.dag(dag_id, dag_class=DAG, **kwargs)


def asset(*, schedule: Any, **kwargs: Any) -> Callable[..., Any]:
    """Airflow's ``@asset`` (see :mod:`tandem.sdk.asset_decorator`), with Airflow 3 schedules."""
    return asset_decorator.asset(schedule=schedule, dag_class=DAG, **kwargs)
