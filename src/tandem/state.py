"""Task instance and DAG run states, and the only edges allowed between them.

Pure data, no I/O. ``tandem.orchestration.transition`` is the one writer that applies these
edges to the database; a transition missing from ``TI_TRANSITIONS`` or ``RUN_TRANSITIONS`` is
a bug and raises there.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class TaskInstanceState(StrEnum):
    NONE = "none"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"
    REMOVED = "removed"
    DEFERRED = "deferred"


class DagRunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


TI = TaskInstanceState  # local shorthand for the tables below only

TI_TERMINAL: frozenset[TaskInstanceState] = frozenset(
    {TI.SUCCESS, TI.FAILED, TI.UPSTREAM_FAILED, TI.SKIPPED, TI.REMOVED}
)
# States in which a try holds (or is about to hold) an executor slot and a pool slot.
TI_OCCUPYING: frozenset[TaskInstanceState] = frozenset({TI.QUEUED, TI.RUNNING})
# States that count as "not finished" when deciding whether a DAG run is done.
TI_UNFINISHED: frozenset[TaskInstanceState] = frozenset(
    {TI.NONE, TI.SCHEDULED, TI.QUEUED, TI.RUNNING, TI.UP_FOR_RETRY, TI.DEFERRED}
)
TI_TRANSITIONS: Mapping[TaskInstanceState, frozenset[TaskInstanceState]] = {
    TI.NONE: frozenset({TI.SCHEDULED, TI.UPSTREAM_FAILED, TI.SKIPPED, TI.REMOVED, TI.SUCCESS, TI.FAILED}),
    TI.SCHEDULED: frozenset({TI.QUEUED, TI.NONE, TI.UPSTREAM_FAILED, TI.SKIPPED, TI.REMOVED, TI.SUCCESS, TI.FAILED}),
    # queued -> scheduled: the executor lost the message, or the queued_timeout expired.
    TI.QUEUED: frozenset({TI.RUNNING, TI.SCHEDULED, TI.NONE, TI.FAILED, TI.UP_FOR_RETRY, TI.SUCCESS, TI.REMOVED,
                       TI.SKIPPED}),
    TI.RUNNING: frozenset({TI.SUCCESS, TI.FAILED, TI.UP_FOR_RETRY, TI.SKIPPED, TI.NONE, TI.DEFERRED}),
    TI.UP_FOR_RETRY: frozenset({TI.SCHEDULED, TI.NONE, TI.FAILED, TI.SUCCESS, TI.REMOVED, TI.SKIPPED}),
    TI.DEFERRED: frozenset({TI.SCHEDULED, TI.FAILED, TI.NONE, TI.SUCCESS, TI.SKIPPED}),
    TI.SUCCESS: frozenset({TI.NONE, TI.FAILED}),
    TI.FAILED: frozenset({TI.NONE, TI.SUCCESS}),
    TI.UPSTREAM_FAILED: frozenset({TI.NONE, TI.SUCCESS, TI.FAILED}),
    TI.SKIPPED: frozenset({TI.NONE, TI.SUCCESS, TI.FAILED}),
    TI.REMOVED: frozenset({TI.NONE}),
}

RUN_TERMINAL: frozenset[DagRunState] = frozenset({DagRunState.SUCCESS, DagRunState.FAILED})

RUN_TRANSITIONS: Mapping[DagRunState, frozenset[DagRunState]] = {
    DagRunState.QUEUED: frozenset({DagRunState.RUNNING, DagRunState.SUCCESS, DagRunState.FAILED}),
    DagRunState.RUNNING: frozenset({DagRunState.SUCCESS, DagRunState.FAILED, DagRunState.QUEUED}),
    # Clearing tasks of a finished run puts it back in queued.
    DagRunState.SUCCESS: frozenset({DagRunState.QUEUED, DagRunState.FAILED}),
    DagRunState.FAILED: frozenset({DagRunState.QUEUED, DagRunState.SUCCESS}),
}


def ti_allowed(old: TaskInstanceState, new: TaskInstanceState) -> bool:
    return new in TI_TRANSITIONS[old]


def run_allowed(old: DagRunState, new: DagRunState) -> bool:
    return new in RUN_TRANSITIONS[old]


del TI
