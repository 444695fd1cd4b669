"""Claiming a try before any user code runs, and recording how it ended."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.executors.workload import Workload
from tandem.models import DagRun, SerializedDagModel, TaskInstance, TaskTry, XCom, utcnow
from tandem.orchestration import RetryParams, transition_ti
from tandem.state import TaskInstanceState


@dataclass(frozen=True)
class Claim:
    """What the runner learned while claiming: the run and the serialized DAG."""

    run: DagRun
    dag_data: dict[str, Any]
    task_data: dict[str, Any]
    start_date: datetime


def claim_try(session: Session, workload: Workload, *, hostname: str, node_id: str) -> Claim | None:
    """queued -> running for exactly this try; None when another runner (or nobody) owns it."""
    now = utcnow()
    new = transition_ti(
        session, workload.key, TaskInstanceState.QUEUED, TaskInstanceState.RUNNING,
        try_number=workload.try_number - 1,
        values={"try_number": workload.try_number, "hostname": hostname, "pid": os.getpid(),
                "node_id": node_id, "start_date": now},
        now=now,
    )
    if new is None:
        return None
    key = workload.key
    session.add(TaskTry(
        dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=key.map_index,
        try_number=workload.try_number, state=TaskInstanceState.RUNNING.value, start_date=now,
        hostname=hostname, pid=os.getpid(), node_id=node_id,
    ))
    run = session.execute(
        sa.select(DagRun).where(DagRun.dag_id == key.dag_id, DagRun.run_id == key.run_id)
    ).scalar_one()
    dag_data = session.execute(
        sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == key.dag_id)
    ).scalar_one()
    task_data = next(t for t in dag_data["tasks"] if t["task_id"] == key.task_id)
    return Claim(run=run, dag_data=dag_data, task_data=task_data, start_date=now)


def retry_params(task_data: dict[str, Any]) -> RetryParams:
    from datetime import timedelta

    max_delay = task_data.get("max_retry_delay")
    return RetryParams(
        retry_delay=timedelta(seconds=task_data.get("retry_delay") or 0),
        exponential=bool(task_data.get("retry_exponential_backoff")),
        max_delay=timedelta(seconds=max_delay) if max_delay is not None else None,
    )


def finish_try(
    session: Session,
    workload: Workload,
    new: TaskInstanceState,
    *,
    start_date: datetime | None,
    task_data: dict[str, Any] | None,
    xcoms: dict[str, Any] | None = None,
    rendered_fields: dict[str, Any] | None = None,
    reason: str | None = None,
) -> TaskInstanceState | None:
    """running -> new for this try, with its XComs, in one transaction; None if the CAS lost."""
    now = utcnow()
    values: dict[str, Any] = {"end_date": now, "failure_reason": reason}
    if start_date is not None:
        values["duration"] = (now - start_date).total_seconds()
    if rendered_fields is not None:
        values["rendered_fields"] = rendered_fields
    final = transition_ti(
        session, workload.key, TaskInstanceState.RUNNING, new, try_number=workload.try_number,
        values=values, retry=retry_params(task_data) if task_data else RetryParams(), now=now,
    )
    if final is None:
        return None
    key = workload.key
    for xkey, value in (xcoms or {}).items():
        session.merge(XCom(dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id,
                           map_index=key.map_index, key=xkey, value=value, timestamp=now))
    session.execute(
        sa.update(TaskTry)
        .where(TaskTry.dag_id == key.dag_id, TaskTry.run_id == key.run_id, TaskTry.task_id == key.task_id,
               TaskTry.map_index == key.map_index, TaskTry.try_number == workload.try_number)
        .values(state=final.value, end_date=now)
    )
    return final


def read_task_data(session: Session, workload: Workload) -> dict[str, Any] | None:
    data = session.execute(
        sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == workload.dag_id)
    ).scalar_one_or_none()
    if data is None:
        return None
    return next((t for t in data["tasks"] if t["task_id"] == workload.task_id), None)


def read_try_state(session: Session, workload: Workload) -> tuple[str, int] | None:
    key = workload.key
    row = session.execute(
        sa.select(TaskInstance.state, TaskInstance.try_number).where(
            TaskInstance.dag_id == key.dag_id, TaskInstance.run_id == key.run_id,
            TaskInstance.task_id == key.task_id, TaskInstance.map_index == key.map_index,
        )
    ).one_or_none()
    return (row.state, row.try_number) if row else None
