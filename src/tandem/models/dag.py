from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import ID_LEN, Base, JsonColumn, LongText, UtcDateTime


class DagModel(Base):
    """One row per DAG ever seen: pause flag and the scheduler's bookkeeping of its next run."""

    __tablename__ = "dag"

    dag_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    is_paused: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    fileloc: Mapped[str] = mapped_column(sa.Text, default="")
    owners: Mapped[str] = mapped_column(sa.String(200), default="")
    description: Mapped[str | None] = mapped_column(sa.Text)
    tags: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    timetable_summary: Mapped[str] = mapped_column(sa.String(200), default="")
    max_active_runs: Mapped[int] = mapped_column(sa.Integer, default=16)
    max_active_tasks: Mapped[int] = mapped_column(sa.Integer, default=16)
    # Data interval of the next scheduled run; null when the schedule has no further run.
    next_dagrun: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_data_interval_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_data_interval_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_create_after: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    last_parsed_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    has_import_errors: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Why creating this DAG's next run last raised (a timetable error, an unreadable
    # serialized DAG); schedulers retry at next_dagrun_create_after, pushed back with backoff.
    scheduling_error: Mapped[str | None] = mapped_column(sa.Text)
    # The bundle the DAG's file belongs to and the version its serialized form was parsed from.
    bundle_name: Mapped[str | None] = mapped_column(sa.String(64))
    bundle_version: Mapped[str | None] = mapped_column(sa.String(64))


class SerializedDagModel(Base):
    """The DAG as JSON: what schedulers and API servers work from, without the DAG files."""

    __tablename__ = "serialized_dag"

    dag_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    dag_hash: Mapped[str] = mapped_column(sa.String(64))
    fileloc: Mapped[str] = mapped_column(sa.Text)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime)
    # The bundle version ``data`` was parsed from: new runs of the DAG record it.
    bundle_name: Mapped[str | None] = mapped_column(sa.String(64))
    bundle_version: Mapped[str | None] = mapped_column(sa.String(64))


class DagCode(Base):
    """Source of a DAG file, keyed by a hash of its path (paths exceed index limits)."""

    __tablename__ = "dag_code"

    fileloc_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    fileloc: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(LongText)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime)


class ImportError_(Base):
    """A DAG file that failed to load, with the reason shown in CLI and UI."""

    __tablename__ = "import_error"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    fileloc_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    filename: Mapped[str] = mapped_column(sa.Text)
    stacktrace: Mapped[str] = mapped_column(LongText)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)
