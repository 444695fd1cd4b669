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


TI_TERMINAL: frozenset[TaskInstanceState] = frozenset(
    {
        TaskInstanceState.SUCCESS,
        TaskInstanceState.FAILED,
        TaskInstanceState.UPSTREAM_FAILED,
        TaskInstanceState.SKIPPED,
        TaskInstanceState.REMOVED,
    }
)
# States in which a try holds (or is about to hold) an executor slot and a pool slot.
TI_OCCUPYING: frozenset[TaskInstanceState] = frozenset({TaskInstanceState.QUEUED, TaskInstanceState.RUNNING})
# States that count as "not finished" when deciding whether a DAG run is done.
TI_UNFINISHED: frozenset[TaskInstanceState] = frozenset(
    {
        TaskInstanceState.NONE,
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.UP_FOR_RETRY,
        TaskInstanceState.DEFERRED,
    }
)
TI_TRANSITIONS: Mapping[TaskInstanceState, frozenset[TaskInstanceState]] = {
    TaskInstanceState.NONE: frozenset(
        {
            TaskInstanceState.SCHEDULED,
            TaskInstanceState.UPSTREAM_FAILED,
            TaskInstanceState.SKIPPED,
            TaskInstanceState.REMOVED,
            TaskInstanceState.SUCCESS,
            TaskInstanceState.FAILED,
        }
    ),
    TaskInstanceState.SCHEDULED: frozenset(
        {
            TaskInstanceState.QUEUED,
            TaskInstanceState.NONE,
            TaskInstanceState.UPSTREAM_FAILED,
            TaskInstanceState.SKIPPED,
            TaskInstanceState.REMOVED,
            TaskInstanceState.SUCCESS,
            TaskInstanceState.FAILED,
        }
    ),
    # queued -> scheduled: the executor lost the message, or the queued_timeout expired.
    TaskInstanceState.QUEUED: frozenset(
        {
            TaskInstanceState.RUNNING,
            TaskInstanceState.SCHEDULED,
            TaskInstanceState.NONE,
            TaskInstanceState.FAILED,
            TaskInstanceState.UP_FOR_RETRY,
            TaskInstanceState.SUCCESS,
            TaskInstanceState.REMOVED,
            TaskInstanceState.SKIPPED,
        }
    ),
    TaskInstanceState.RUNNING: frozenset(
        {
            TaskInstanceState.SUCCESS,
            TaskInstanceState.FAILED,
            TaskInstanceState.UP_FOR_RETRY,
            TaskInstanceState.SKIPPED,
            TaskInstanceState.NONE,
            TaskInstanceState.DEFERRED,
        }
    ),
    TaskInstanceState.UP_FOR_RETRY: frozenset(
        {
            TaskInstanceState.SCHEDULED,
            TaskInstanceState.NONE,
            TaskInstanceState.FAILED,
            TaskInstanceState.SUCCESS,
            TaskInstanceState.REMOVED,
            TaskInstanceState.SKIPPED,
        }
    ),
    TaskInstanceState.DEFERRED: frozenset(
        {
            TaskInstanceState.SCHEDULED,
            TaskInstanceState.FAILED,
            TaskInstanceState.NONE,
            TaskInstanceState.SUCCESS,
            TaskInstanceState.SKIPPED,
        }
    ),
    TaskInstanceState.SUCCESS: frozenset({TaskInstanceState.NONE, TaskInstanceState.FAILED}),
    TaskInstanceState.FAILED: frozenset({TaskInstanceState.NONE, TaskInstanceState.SUCCESS}),
    TaskInstanceState.UPSTREAM_FAILED: frozenset(
        {TaskInstanceState.NONE, TaskInstanceState.SUCCESS, TaskInstanceState.FAILED}
    ),
    TaskInstanceState.SKIPPED: frozenset(
        {TaskInstanceState.NONE, TaskInstanceState.SUCCESS, TaskInstanceState.FAILED}
    ),
    TaskInstanceState.REMOVED: frozenset({TaskInstanceState.NONE}),
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
