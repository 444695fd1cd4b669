"""Responses of ``/assets`` (kept apart from ``responses.py`` so that the asset API stays one unit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class DagRunRef(BaseModel):
    dag_id: str
    dag_run_id: str
    state: str


class AssetEvent(BaseModel):
    id: int
    uri: str
    extra: Any = None
    source_dag_id: str | None
    source_run_id: str | None
    source_task_id: str | None
    source_map_index: int
    timestamp: datetime
    created_dagruns: list[DagRunRef]


class AssetEventCollection(BaseModel):
    asset_events: list[AssetEvent]
    total_entries: int


class Asset(BaseModel):
    uri: str
    event_count: int
    last_event_at: datetime | None
    producing_dags: list[str]
    consuming_dags: list[str]


class AssetCollection(BaseModel):
    assets: list[Asset]
    total_entries: int
