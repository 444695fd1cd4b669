"""The runner's database writes: claiming a try before any user code runs, recording its end."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.config import get_settings
from tandem.executors.workload import Workload
from tandem.models import DagBundle, DagRun, SerializedDagModel, TaskInstance, TaskTry, XCom, utcnow
from tandem.orchestration import RetryParams, TiKey, transition_ti
from tandem.runner.assets import record_asset_events
from tandem.state import TaskInstanceState


@dataclass(frozen=True)
class Claim:
    """The claimed try's DAG run, as the task's context needs it."""

    run_id: str
    logical_date: datetime
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_type: str
    conf: dict[str, Any]
    start_date: datetime
    #: The DAG's last successful run before this one (the context's ``prev_*_success``).
    previous_success: PreviousRun | None = None
    #: The bundle version the run was created with: the code this try runs.
    bundle_name: str | None = None
    bundle_version: str | None = None


@dataclass(frozen=True)
class PreviousRun:
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    start_date: datetime | None
    end_date: datetime | None


def claim_try(session: Session, workload: Workload, *, hostname: str, node_id: str, pid: int | None = None) -> Claim | None:
    """queued -> running for exactly this try; None when another runner (or nobody) owns it.

    Idempotent: when an earlier attempt's commit went through but its acknowledgement was lost
    (the connection dropped), the try is found running under this very runner and is claimed.
    """
    now = utcnow()
    pid = pid or os.getpid()
    new = transition_ti(
        session, workload.key, TaskInstanceState.QUEUED, TaskInstanceState.RUNNING,
        try_number=workload.try_number - 1,
        values={"try_number": workload.try_number, "hostname": hostname, "pid": pid, "node_id": node_id,
                "start_date": now},
        guard={"queued_by": workload.queued_by} if workload.queued_by else None,
        now=now,
    )
    key = workload.key
    if new is None:
        started = session.execute(
            sa.select(TaskInstance.start_date).where(
                TaskInstance.dag_id == key.dag_id, TaskInstance.run_id == key.run_id,
                TaskInstance.task_id == key.task_id, TaskInstance.map_index == key.map_index,
                TaskInstance.state == TaskInstanceState.RUNNING.value,
                TaskInstance.try_number == workload.try_number, TaskInstance.node_id == node_id,
                TaskInstance.hostname == hostname, TaskInstance.pid == pid,
            )
        ).scalar_one_or_none()
        return None if started is None else _read_claim(session, workload, started)
    session.add(TaskTry(
        dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=key.map_index,
        try_number=workload.try_number, state=TaskInstanceState.RUNNING.value, start_date=now,
        hostname=hostname, pid=pid, node_id=node_id,
    ))
    return _read_claim(session, workload, now)


#: Columns of the previous successful run that a try's context shows (``prev_*_success``).
_PREVIOUS_COLUMNS = ("data_interval_start", "data_interval_end", "start_date", "end_date")


def _read_claim(session: Session, workload: Workload, start_date: datetime) -> Claim:
    key = workload.key
    # The run and the DAG's last success before it, in one statement (one round trip of the
    # claim's few): read here, in the claim's transaction, so the try itself needs no database.
    previous = sa.orm.aliased(DagRun)

    def previous_success(column: str) -> sa.ScalarSelect[Any]:
        return (
            sa.select(getattr(previous, column))
            .where(previous.dag_id == DagRun.dag_id, previous.state == "success",
                   previous.logical_date < DagRun.logical_date)
            .order_by(previous.logical_date.desc()).limit(1)
            .scalar_subquery()
        )

    run = session.execute(
        sa.select(DagRun.run_id, DagRun.logical_date, DagRun.data_interval_start, DagRun.data_interval_end,
                  DagRun.run_type, DagRun.conf, DagRun.bundle_name, DagRun.bundle_version,
                  previous_success("run_id").label("previous_run_id"),
                  *(previous_success(c).label(f"previous_{c}") for c in _PREVIOUS_COLUMNS))
        .where(DagRun.dag_id == key.dag_id, DagRun.run_id == key.run_id)
    ).one()
    prior = (PreviousRun(*(getattr(run, f"previous_{c}") for c in _PREVIOUS_COLUMNS))
             if run.previous_run_id is not None else None)
    version = run.bundle_version
    if version and get_settings().dag_processor.disable_bundle_versioning:
        # Airflow's disable_bundle_versioning: every try runs its bundle's latest version.
        version = session.execute(sa.select(DagBundle.latest_version).where(
            DagBundle.name == run.bundle_name)).scalar() or version
    return Claim(run.run_id, run.logical_date, run.data_interval_start, run.data_interval_end, run.run_type,
                 dict(run.conf or {}), start_date, prior, run.bundle_name, version)


def finish_try(
    session: Session,
    workload: Workload,
    new: TaskInstanceState,
    *,
    start_date: datetime | None,
    retry: RetryParams | None,
    xcoms: dict[str, Any] | None = None,
    rendered_fields: dict[str, Any] | None = None,
    reason: str | None = None,
    allow_retry: bool = True,
    asset_events: list[dict[str, Any]] | None = None,
) -> TaskInstanceState | None:
    """running -> new for this try, with its XComs, in one transaction; None if the CAS lost.

    A failure uses a retry left unless ``allow_retry`` is false (the task asked to fail for good).
    ``asset_events`` (the task's outlet updates) are recorded only if the try succeeded.
    """
    now = utcnow()
    values: dict[str, Any] = {"end_date": now, "failure_reason": reason}
    if start_date is not None:
        values["duration"] = (now - start_date).total_seconds()
    if rendered_fields is not None:
        values["rendered_fields"] = rendered_fields
    final = transition_ti(
        session, workload.key, TaskInstanceState.RUNNING, new, try_number=workload.try_number,
        values=values, retry=(retry or RetryParams()) if allow_retry else None, now=now,
    )
    if final is None:
        return None
    key = workload.key
    ti_clause = (XCom.dag_id == key.dag_id, XCom.run_id == key.run_id, XCom.task_id == key.task_id,
                 XCom.map_index == key.map_index)
    if workload.try_number > 1:
        session.execute(sa.delete(XCom).where(*ti_clause))  # an earlier try's values are stale
    if xcoms:
        session.execute(sa.insert(XCom), [
            {"dag_id": key.dag_id, "run_id": key.run_id, "task_id": key.task_id, "map_index": key.map_index,
             "key": xkey, "value": value, "timestamp": now} for xkey, value in xcoms.items()
        ])
    if asset_events and final == TaskInstanceState.SUCCESS:
        record_asset_events(session, key, asset_events, now)
    close_try_record(session, key, workload.try_number, final, now)
    return final


def close_try_record(session: Session, key: TiKey, try_number: int, final: TaskInstanceState,
                     now: datetime) -> None:
    """Copy how a try ended onto its history row (the task instance row holds the truth)."""
    session.execute(
        sa.update(TaskTry)
        .where(TaskTry.dag_id == key.dag_id, TaskTry.run_id == key.run_id, TaskTry.task_id == key.task_id,
               TaskTry.map_index == key.map_index, TaskTry.try_number == try_number)
        .values(state=final.value, end_date=now)
    )


def read_retry_params(session: Session, workload: Workload) -> RetryParams:
    """The task's retry settings from its serialized DAG (when no task object is at hand)."""
    data = session.execute(
        sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == workload.dag_id)
    ).scalar_one_or_none()
    tasks: list[dict[str, Any]] = (data or {}).get("tasks", [])
    task = next((t for t in tasks if t["task_id"] == workload.task_id), {})
    return RetryParams.from_task_data(task)


def read_try_state(session: Session, workload: Workload) -> tuple[str, int] | None:
    key = workload.key
    row = session.execute(
        sa.select(TaskInstance.state, TaskInstance.try_number).where(
            TaskInstance.dag_id == key.dag_id, TaskInstance.run_id == key.run_id,
            TaskInstance.task_id == key.task_id, TaskInstance.map_index == key.map_index,
        )
    ).one_or_none()
    return (row.state, row.try_number) if row else None
