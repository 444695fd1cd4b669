from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import ID_LEN, Base, JsonColumn, UtcDateTime


class Backfill(Base):
    """Runs of a DAG over a past date range, made by hand (Airflow 3's ``backfill`` table).

    Its runs are ordinary DAG runs (``run_type = backfill``, ``dag_run.backfill_id``) that the
    schedulers start, at most ``max_active_runs`` at a time. ``is_paused`` stops them from
    starting more; ``completed_at`` is set when every run has ended or the backfill is cancelled
    (cancelled = completed while paused).
    """

    __tablename__ = "backfill"
    __table_args__ = (sa.Index("ix_backfill_dag_id_completed_at", "dag_id", "completed_at"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(sa.String(ID_LEN))
    from_date: Mapped[datetime] = mapped_column(UtcDateTime)
    to_date: Mapped[datetime] = mapped_column(UtcDateTime)
    dag_run_conf: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    is_paused: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    max_active_runs: Mapped[int] = mapped_column(sa.Integer, default=10)
    reprocess_behavior: Mapped[str] = mapped_column(sa.String(20), default="none")
    run_backwards: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    triggering_user_name: Mapped[str | None] = mapped_column(sa.String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BackfillDagRun(Base):
    """One logical date of a backfill: the run made for it, or why none was (``exception_reason``)."""

    __tablename__ = "backfill_dag_run"
    __table_args__ = (
        sa.ForeignKeyConstraint(["backfill_id"], ["backfill.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dag_run_id"], ["dag_run.id"], ondelete="SET NULL"),
        sa.UniqueConstraint("backfill_id", "logical_date"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    backfill_id: Mapped[int] = mapped_column(sa.Integer)
    dag_run_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    logical_date: Mapped[datetime] = mapped_column(UtcDateTime)
    # "in flight" (a run at that date is active) or "already exists" (kept per reprocess_behavior).
    exception_reason: Mapped[str | None] = mapped_column(sa.String(50))
    # Start order within the backfill (1 first): backwards backfills number from the latest date.
    sort_ordinal: Mapped[int] = mapped_column(sa.Integer)
