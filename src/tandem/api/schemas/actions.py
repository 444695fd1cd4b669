"""Request bodies. Lengths and ranges match the columns, so bad input is a 400, not a DB error."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from tandem.api.schemas.filters import MAX_INT

Id = Annotated[str, Field(min_length=1, max_length=200)]


class _Body(BaseModel):
    # Unknown fields are ignored as Airflow does (clients send whole objects back on PATCH).
    model_config = ConfigDict(extra="ignore")


class DAGPatch(_Body):
    is_paused: bool


class DAGRunTrigger(_Body):
    # Checked against security.identifier_pattern when the run is created (tandem.identifiers).
    dag_run_id: Annotated[str | None, Field(max_length=200)] = None
    logical_date: datetime | None = Field(None, validation_alias=AliasChoices("logical_date", "execution_date"))
    conf: dict[str, Any] | None = None
    note: str | None = None

    @field_validator("logical_date")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("logical_date needs a time zone (e.g. 2024-01-01T00:00:00Z)")
        return value


class DAGRunStatePatch(_Body):
    state: Literal["success", "failed", "queued"]
    # Tandem: with dry_run, answer the task instances the change would touch and change nothing.
    dry_run: bool = False


class DAGRunClear(_Body):
    dry_run: bool = True
    only_failed: bool = False


class ClearTaskInstances(_Body):
    dry_run: bool = True
    task_ids: Annotated[list[Id], Field(max_length=10_000)] | None = None
    dag_run_id: Id | None = None
    include_downstream: bool = False
    include_upstream: bool = False
    include_past: bool = False
    include_future: bool = False
    # Follow ExternalTaskMarkers into other DAGs (Airflow's "recursive"; include_subdags in Airflow 2).
    recursive: bool = Field(False, validation_alias=AliasChoices("recursive", "include_subdags"))
    only_failed: bool = True
    only_running: bool = False
    reset_dag_runs: bool = True


class TaskInstancesStateUpdate(_Body):
    """Airflow's ``updateTaskInstancesState``: mark a task (and its scope) in a run, or preview it."""

    dry_run: bool = True
    task_id: Id
    dag_run_id: Id
    map_index: Annotated[int | None, Field(ge=-1, le=MAX_INT)] = None
    new_state: Literal["success", "failed", "skipped"]
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False


class TaskInstanceStatePatch(_Body):
    dry_run: bool = False
    new_state: Literal["success", "failed", "skipped"]


class VariableBody(_Body):
    key: Annotated[str, Field(min_length=1, max_length=250)]
    value: str
    description: str | None = None


class VariablePatch(_Body):
    key: Annotated[str | None, Field(min_length=1, max_length=250)] = None
    value: str | None = None
    description: str | None = None


class ConnectionPatch(_Body):
    conn_type: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    description: str | None = None
    host: Annotated[str | None, Field(max_length=500)] = None
    login: str | None = None
    schema_: Annotated[str | None, Field(max_length=500, alias="schema")] = None
    port: Annotated[int | None, Field(ge=0, le=65535)] = None
    password: str | None = None
    extra: str | None = None

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ConnectionBody(ConnectionPatch):
    """A new connection: the patchable fields, plus its id and a required type."""

    connection_id: Annotated[str, Field(min_length=1, max_length=250)]
    conn_type: Annotated[str, Field(min_length=1, max_length=100)]


class PoolBody(_Body):
    name: Annotated[str, Field(min_length=1, max_length=256)]
    slots: Annotated[int, Field(ge=0, le=MAX_INT)]
    description: str | None = None


class PoolPatch(_Body):
    slots: Annotated[int | None, Field(ge=0, le=MAX_INT)] = None
    description: str | None = None


class UserBody(_Body):
    username: Annotated[str, Field(min_length=1, max_length=256)]
    password: Annotated[str, Field(min_length=1, max_length=4096)]
    email: Annotated[str, Field(max_length=256)] = ""
    role: Literal["viewer", "user", "op", "admin"] = "viewer"


class UserPatch(_Body):
    password: Annotated[str | None, Field(min_length=1, max_length=4096)] = None
    email: Annotated[str | None, Field(max_length=256)] = None
    role: Literal["viewer", "user", "op", "admin"] | None = None
    active: bool | None = None


class TokenBody(_Body):
    expires_in_days: Annotated[float | None, Field(gt=0, le=36500)] = None
    description: Annotated[str, Field(max_length=250)] = ""
