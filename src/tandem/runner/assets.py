"""The runner's side of assets: record a try's outlet updates, read a run's triggering events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import AssetEvent, AssetEventDagRun
from tandem.orchestration import TiKey
from tandem.sdk.assets import AssetEvents, AssetEventView


def record_asset_events(session: Session, key: TiKey, updates: list[dict[str, Any]], now: datetime) -> None:
    """One :class:`AssetEvent` per outlet update of the try ``key`` (in its finishing transaction)."""
    session.execute(sa.insert(AssetEvent), [
        {"uri": u["uri"], "extra": u.get("extra") or {}, "source_dag_id": key.dag_id, "source_run_id": key.run_id,
         "source_task_id": key.task_id, "source_map_index": key.map_index, "timestamp": now}
        for u in updates
    ])


def read_triggering_events(session: Session, dag_id: str, run_id: str) -> AssetEvents:
    """The events that triggered the run (its ``triggering_asset_events``)."""
    return _grouped(session.execute(
        sa.select(AssetEvent).join(AssetEventDagRun, AssetEventDagRun.event_id == AssetEvent.id)
        .where(AssetEventDagRun.dag_id == dag_id, AssetEventDagRun.run_id == run_id).order_by(AssetEvent.id)
    ).scalars())


def read_inlet_events(session: Session, uris: list[str]) -> AssetEvents:
    """Every event of these assets, oldest first (the task's ``inlet_events``)."""
    events = _grouped(session.execute(
        sa.select(AssetEvent).where(AssetEvent.uri.in_(uris)).order_by(AssetEvent.id)).scalars()) if uris else AssetEvents()
    for uri in uris:
        events.setdefault(uri, [])
    return events


def _grouped(rows: Iterable[AssetEvent]) -> AssetEvents:
    events = AssetEvents()
    for row in rows:
        events.setdefault(row.uri, []).append(AssetEventView(
            uri=row.uri, extra=row.extra or {}, timestamp=row.timestamp, source_dag_id=row.source_dag_id,
            source_run_id=row.source_run_id, source_task_id=row.source_task_id,
            source_map_index=row.source_map_index,
        ))
    return events
