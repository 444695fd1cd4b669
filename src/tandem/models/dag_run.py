from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import ID_LEN, Base, JsonColumn, UtcDateTime


class DagRun(Base):
    """One run of a DAG. The unique keys make a duplicate run impossible, whatever the race."""

    __tablename__ = "dag_run"
    __table_args__ = (
        sa.UniqueConstraint("dag_id", "run_id"),
        sa.UniqueConstraint("dag_id", "logical_date"),
        sa.Index("ix_dag_run_state_dag_id", "state", "dag_id"),
        sa.Index("ix_dag_run_end_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(sa.String(ID_LEN))
    run_id: Mapped[str] = mapped_column(sa.String(ID_LEN))
    logical_date: Mapped[datetime] = mapped_column(UtcDateTime)
    data_interval_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    data_interval_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    run_after: Mapped[datetime] = mapped_column(UtcDateTime)
    run_type: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[str] = mapped_column(sa.String(20))
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    start_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    conf: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    dag_hash: Mapped[str | None] = mapped_column(sa.String(64))
    triggered_by: Mapped[str] = mapped_column(sa.String(50), default="")
    last_scheduling_decision: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Why the last attempt to schedule this run raised, how many attempts in a row did, and
    # when schedulers may try again (the run is skipped with backoff until then).
    scheduling_error: Mapped[str | None] = mapped_column(sa.Text)
    scheduling_failures: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    next_scheduling_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The bundle version the run was created with; every try of the run runs that code.
    bundle_name: Mapped[str | None] = mapped_column(sa.String(64))
    bundle_version: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # The backfill that made (or re-ran) this run; no foreign key, so that adding the column
    # never rebuilds dag_run on SQLite (whose rebuild would cascade into task_instance).
    backfill_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
