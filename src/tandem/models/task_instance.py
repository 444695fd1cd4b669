from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import ID_LEN, Base, JsonColumn, UtcDateTime


class TaskInstance(Base):
    """A task in a DAG run (one per map index). State is written only by ``orchestration``."""

    __tablename__ = "task_instance"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id"], ["dag_run.dag_id", "dag_run.run_id"], ondelete="CASCADE"
        ),
        sa.Index("ix_task_instance_state_pool", "state", "pool"),
        sa.Index("ix_task_instance_dag_id_state", "dag_id", "state"),
        # The dashboard's outcomes of the last hour and latest failures (end_date changes only as a try ends).
        sa.Index("ix_task_instance_end_date", "end_date"),
    )

    dag_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    task_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    # -1 for an unmapped task; a mapped task before expansion also holds -1.
    map_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True, default=-1)
    state: Mapped[str] = mapped_column(sa.String(20), default="none")
    # Number of the last try that was handed out (queued); 0 before the first.
    try_number: Mapped[int] = mapped_column(sa.Integer, default=0)
    max_tries: Mapped[int] = mapped_column(sa.Integer, default=0)
    operator: Mapped[str] = mapped_column(sa.String(100), default="")
    pool: Mapped[str] = mapped_column(sa.String(256), default="default_pool")
    pool_slots: Mapped[int] = mapped_column(sa.Integer, default=1)
    queue: Mapped[str] = mapped_column(sa.String(256), default="default")
    priority_weight: Mapped[int] = mapped_column(sa.Integer, default=1)
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    start_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration: Mapped[float | None] = mapped_column(sa.Float)
    next_retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    hostname: Mapped[str] = mapped_column(sa.String(250), default="")
    pid: Mapped[int | None] = mapped_column(sa.Integer)
    # Node of the runner that claimed the try, and of the scheduler that queued it.
    node_id: Mapped[str | None] = mapped_column(sa.String(36))
    queued_by: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    # Times this try was taken back from the executor after queued_timeout (then it fails).
    queued_requeues: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    last_heartbeat: Mapped[datetime | None] = mapped_column(UtcDateTime)
    executor_info: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    rendered_fields: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# The queuing order of scheduled instances (critical_section's candidates): read in index
# order, a page of candidates costs its own size, not the thousands scheduled behind it.
sa.Index("ix_task_instance_queue_order", TaskInstance.state, TaskInstance.priority_weight.desc(),
         TaskInstance.scheduled_at, TaskInstance.map_index)


class TaskTry(Base):
    """One row per try that a runner claimed: who ran it, when, and how it ended."""

    __tablename__ = "task_try"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id"], ["dag_run.dag_id", "dag_run.run_id"], ondelete="CASCADE"
        ),
    )

    dag_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    task_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    map_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    try_number: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(20))
    start_date: Mapped[datetime] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    hostname: Mapped[str] = mapped_column(sa.String(250), default="")
    pid: Mapped[int | None] = mapped_column(sa.Integer)
    node_id: Mapped[str | None] = mapped_column(sa.String(36))
