"""Airflow's names for states and run types, and Tandem's for the same thing.

Airflow states absent from the tables have no Tandem equivalent; callers report them.
"""

from __future__ import annotations

from tandem.state import DagRunState, TaskInstanceState

# Airflow stores a task instance that never ran as NULL.
TI_STATES: dict[str | None, TaskInstanceState] = {
    None: TaskInstanceState.NONE,
    **{s.value: s for s in TaskInstanceState},
}
RUN_STATES: dict[str | None, DagRunState] = {s.value: s for s in DagRunState}
# Airflow 2 says "dataset", Airflow 3 "asset"; Tandem's run types are free text.
RUN_TYPES = {
    "manual": "manual",
    "scheduled": "scheduled",
    "backfill": "backfill",
    "dataset_triggered": "asset_triggered",
    "asset_triggered": "asset_triggered",
    "asset_materialization": "asset_triggered",
}
# What an unmappable task state becomes: cleared, so the scheduler decides again if its run
# is not finished (``up_for_reschedule``, ``restarting``, ``shutdown`` are all "run it again").
FALLBACK_TI_STATE = TaskInstanceState.NONE
