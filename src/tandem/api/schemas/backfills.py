"""Backfill request and response bodies, named as in Airflow 3's REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tandem.api.schemas.filters import MAX_INT


class BackfillPostBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dag_id: Annotated[str, Field(min_length=1, max_length=200)]
    from_date: datetime
    to_date: datetime
    run_backwards: bool = False
    dag_run_conf: dict[str, Any] = Field(default_factory=dict)
    reprocess_behavior: Literal["none", "failed", "completed"] = "none"
    max_active_runs: Annotated[int, Field(ge=1, le=1000)] = 10
    dry_run: bool = False

    @field_validator("from_date", "to_date")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2024-01-01T00:00:00Z)")
        return value


class BackfillProgress(BaseModel):
    queued: int = 0
    running: int = 0
    success: int = 0
    failed: int = 0
    total: int = 0
    skipped: int = 0


class BackfillResponse(BaseModel):
    id: Annotated[int, Field(ge=0, le=MAX_INT)]
    dag_id: str
    from_date: datetime
    to_date: datetime
    dag_run_conf: dict[str, Any]
    is_paused: bool
    reprocess_behavior: str
    max_active_runs: int
    run_backwards: bool
    created_at: datetime
    completed_at: datetime | None
    updated_at: datetime
    triggering_user_name: str | None
    state: str
    progress: BackfillProgress


class BackfillCollectionResponse(BaseModel):
    backfills: list[BackfillResponse]
    total_entries: int


class DryRunBackfillResponse(BaseModel):
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    action: Literal["create", "clear"]
    existing_run_id: str | None = None


class SkippedDate(BaseModel):
    logical_date: datetime
    reason: str
    existing_run_id: str | None = None


class DryRunBackfillCollectionResponse(BaseModel):
    """The runs a backfill would make, in start order; ``skipped``: dates it would leave alone."""

    backfills: list[DryRunBackfillResponse]
    total_entries: int
    skipped: list[SkippedDate] = Field(default_factory=list)
