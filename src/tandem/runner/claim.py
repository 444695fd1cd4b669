"""The runner's database writes: claiming a try before any user code runs, recording its end."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.config import get_settings
from tandem.executors.workload import Workload
from tandem.models import DagBundle, DagRun, SerializedDagModel, TaskInstance, TaskTry, XCom, table_of, utcnow
from tandem.orchestration import RetryParams, TiKey, transition_ti
from tandem.runner.assets import record_asset_events
from tandem.runner.prefetch import Prefetched
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
    #: The XComs the task's arguments pull, read by the supervisor (``runner.prefetch``).
    xcoms: Prefetched = field(default_factory=dict)


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
    # Plain Core statements here and below: they are on every try's path, where the ORM's unit of
    # work and bulk machinery cost more CPU than the round trips themselves.
    session.execute(sa.insert(_TRY), {
        "dag_id": key.dag_id, "run_id": key.run_id, "task_id": key.task_id, "map_index": key.map_index,
        "try_number": workload.try_number, "state": TaskInstanceState.RUNNING.value, "start_date": now,
        "hostname": hostname, "pid": pid, "node_id": node_id,
    })
    return _read_claim(session, workload, now)


_TRY = table_of(TaskTry)
_RUN = table_of(DagRun)
_PREVIOUS = _RUN.alias("previous")
_LATEST = _RUN.alias("latest_success")


def _claim_read() -> sa.Select[Any]:
    run, prev, latest = _RUN.c, _PREVIOUS.c, _LATEST.c
    # The DAG's last successful run before this one (the context's prev_*_success), joined in
    # the same statement, and read here in the claim's transaction so the try needs no DB for it.
    previous_id = (
        sa.select(latest.id)
        .where(latest.dag_id == run.dag_id, latest.state == "success", latest.logical_date < run.logical_date)
        .order_by(latest.logical_date.desc()).limit(1).correlate(_RUN).scalar_subquery()
    )
    return (
        sa.select(run.run_id, run.logical_date, run.data_interval_start, run.data_interval_end, run.run_type,
                  run.conf, run.bundle_name, run.bundle_version, prev.id.label("previous_id"),
                  prev.data_interval_start.label("previous_start"), prev.data_interval_end.label("previous_end"),
                  prev.start_date.label("previous_started"), prev.end_date.label("previous_ended"))
        .select_from(_RUN.outerjoin(_PREVIOUS, prev.id == previous_id))
        .where(run.dag_id == sa.bindparam("dag_id"), run.run_id == sa.bindparam("run_id"))
    )


# Built once: these run for every try, and building them costs more CPU than running them.
_CLAIM_READ = _claim_read()
_CLOSE_TRY = (
    sa.update(_TRY)
    .where(_TRY.c.dag_id == sa.bindparam("k_dag_id"), _TRY.c.run_id == sa.bindparam("k_run_id"),
           _TRY.c.task_id == sa.bindparam("k_task_id"), _TRY.c.map_index == sa.bindparam("k_map_index"),
           _TRY.c.try_number == sa.bindparam("k_try_number"))
    .values(state=sa.bindparam("v_state"), end_date=sa.bindparam("v_end_date", type_=_TRY.c.end_date.type))
)


def _read_claim(session: Session, workload: Workload, start_date: datetime) -> Claim:
    key = workload.key
    row = session.execute(_CLAIM_READ, {"dag_id": key.dag_id, "run_id": key.run_id}).one()
    previous = None if row.previous_id is None else PreviousRun(
        row.previous_start, row.previous_end, row.previous_started, row.previous_ended)
    version = row.bundle_version
    if version and get_settings().dag_processor.disable_bundle_versioning:
        # Airflow's disable_bundle_versioning: every try runs its bundle's latest version.
        version = session.execute(sa.select(DagBundle.latest_version).where(
            DagBundle.name == row.bundle_name)).scalar() or version
    return Claim(row.run_id, row.logical_date, row.data_interval_start, row.data_interval_end, row.run_type,
                 dict(row.conf or {}), start_date, previous, row.bundle_name, version)


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
        session.execute(sa.insert(table_of(XCom)), [
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
    session.execute(_CLOSE_TRY, {"k_dag_id": key.dag_id, "k_run_id": key.run_id, "k_task_id": key.task_id,
                                 "k_map_index": key.map_index, "k_try_number": try_number,
                                 "v_state": final.value, "v_end_date": now})


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
