"""Backfills: runs of a DAG over a past date range, made on request, as in Airflow 3.

A backfill's runs are created at once, as queued DAG runs (``run_type = backfill``, linked by
``dag_run.backfill_id`` and ``backfill_dag_run``), for the logical dates the DAG's timetable
gives between ``from_date`` and ``to_date`` whose data interval has ended. The schedulers start
them like any run, at most the backfill's ``max_active_runs`` at a time (on top of the DAG's
own limit), in the backfill's order; a paused backfill starts none; a cancelled one fails its
queued runs and lets the running ones finish. One active backfill per DAG.
"""

from tandem.backfill.control import cancel_backfill, complete_finished_backfills, set_backfill_paused
from tandem.backfill.create import (
    BackfillError,
    BackfillRequest,
    PlannedRun,
    ReprocessBehavior,
    create_backfill,
    plan_backfill,
)

__all__ = [
    "BackfillError",
    "BackfillRequest",
    "PlannedRun",
    "ReprocessBehavior",
    "cancel_backfill",
    "complete_finished_backfills",
    "create_backfill",
    "plan_backfill",
    "set_backfill_paused",
]
