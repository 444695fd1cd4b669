"""Asset tables: the updates tasks made to their outlet assets, and who consumed them.

An :class:`AssetEvent` is written with the producing try's success, in the same
transaction. A DAG scheduled on assets keeps in :class:`AssetConsumer` the id of the last
event it has taken into account; the events a run was triggered by are linked to it in
:class:`AssetEventDagRun` (its ``triggering_asset_events``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import ID_LEN, Base, JsonColumn, UtcDateTime

URI_LEN = 1000


class AssetEvent(Base):
    """One update of the asset ``uri``, made by a successful task instance try."""

    __tablename__ = "asset_event"
    # MySQL indexes at most 3072 bytes of a key: a prefix of the uri is enough to find its events.
    __table_args__ = (sa.Index("idx_asset_event_uri", "uri", "id", mysql_length={"uri": 255}),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(sa.String(URI_LEN))
    extra: Mapped[Any] = mapped_column(JsonColumn)
    source_dag_id: Mapped[str | None] = mapped_column(sa.String(ID_LEN))
    source_run_id: Mapped[str | None] = mapped_column(sa.String(ID_LEN))
    source_task_id: Mapped[str | None] = mapped_column(sa.String(ID_LEN))
    source_map_index: Mapped[int] = mapped_column(sa.Integer, default=-1)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)


class AssetConsumer(Base):
    """An asset-scheduled DAG and the last asset event it has consumed."""

    __tablename__ = "asset_consumer"

    dag_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(sa.Integer, default=0)


class AssetEventDagRun(Base):
    """An asset event that triggered a DAG run."""

    __tablename__ = "asset_event_dag_run"
    __table_args__ = (
        sa.ForeignKeyConstraint(["dag_id", "run_id"], ["dag_run.dag_id", "dag_run.run_id"], ondelete="CASCADE"),
    )

    dag_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(ID_LEN), primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("asset_event.id", ondelete="CASCADE"), primary_key=True)
