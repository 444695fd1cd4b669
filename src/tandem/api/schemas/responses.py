"""Response bodies, named and shaped as in Airflow's stable REST API v1."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Tag(BaseModel):
    name: str


class ScheduleInterval(BaseModel):
    type: str = Field(alias="__type", serialization_alias="__type")
    value: str | None = None

    model_config = {"populate_by_name": True}


class DAG(BaseModel):
    dag_id: str
    dag_display_name: str
    is_paused: bool
    is_active: bool
    is_subdag: bool = False
    last_parsed_time: datetime | None
    default_view: str = "grid"
    fileloc: str
    file_token: str
    owners: list[str]
    description: str | None
    schedule_interval: ScheduleInterval | None
    timetable_description: str
    tags: list[Tag]
    max_active_tasks: int
    max_active_runs: int
    has_import_errors: bool
    next_dagrun: datetime | None
    next_dagrun_data_interval_start: datetime | None
    next_dagrun_data_interval_end: datetime | None
    next_dagrun_create_after: datetime | None
    scheduling_error: str | None = Field(
        None, description="Why schedulers could not create this DAG's next run last time (retried with backoff).")
    bundle_name: str | None = Field(None, description="The DAG bundle the DAG's file belongs to.")
    bundle_version: str | None = Field(
        None, description="The bundle version the DAG was last parsed from; new runs record it.")


class DAGDetail(DAG):
    catchup: bool | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    timezone: str | None = None
    dagrun_timeout: float | None = None
    doc_md: str | None = None
    params: dict[str, Any] = {}
    owner: str | None = None


class DAGCollection(BaseModel):
    dags: list[DAG]
    total_entries: int


class Task(BaseModel):
    task_id: str
    task_display_name: str
    operator_name: str
    task_group: str
    downstream_task_ids: list[str]
    upstream_task_ids: list[str]
    trigger_rule: str
    retries: int
    pool: str
    pool_slots: int
    priority_weight: int
    queue: str
    owner: str
    doc_md: str | None
    is_mapped: bool
    template_fields: list[str]
    execution_timeout: float | None
    retry_delay: float | None
    ui_color: str | None


class TaskCollection(BaseModel):
    tasks: list[Task]
    total_entries: int


class DAGSource(BaseModel):
    content: str
    fileloc: str


class DAGRun(BaseModel):
    dag_run_id: str
    dag_id: str
    logical_date: datetime
    execution_date: datetime
    start_date: datetime | None
    end_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    last_scheduling_decision: datetime | None
    queued_at: datetime | None
    run_type: str
    state: str
    external_trigger: bool
    triggered_by: str
    conf: dict[str, Any]
    note: str | None = None
    scheduling_error: str | None = Field(
        None, description="Why schedulers could not schedule this run last time they tried (retried with backoff).")
    bundle_version: str | None = Field(
        None, description="The bundle version the run was created with; all its tries run that code.")


class DAGRunCollection(BaseModel):
    dag_runs: list[DAGRun]
    total_entries: int


class TaskInstance(BaseModel):
    task_id: str
    task_display_name: str
    dag_id: str
    dag_run_id: str
    execution_date: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    state: str | None
    try_number: int
    map_index: int
    max_tries: int
    hostname: str
    unixname: str = ""
    pool: str
    pool_slots: int
    queue: str
    priority_weight: int
    operator: str
    queued_when: datetime | None
    pid: int | None
    node_id: str | None
    failure_reason: str | None
    rendered_fields: dict[str, Any] | None
    note: str | None = None


class TaskInstanceCollection(BaseModel):
    task_instances: list[TaskInstance]
    total_entries: int


class TaskInstanceReference(BaseModel):
    task_id: str
    dag_id: str
    dag_run_id: str
    map_index: int
    execution_date: datetime | None = None
    # Tandem: the instance's state before the change (filled in dry-run answers).
    state: str | None = None


class TaskInstanceReferenceCollection(BaseModel):
    task_instances: list[TaskInstanceReference]


class TaskTry(BaseModel):
    dag_id: str
    dag_run_id: str
    task_id: str
    map_index: int
    try_number: int
    state: str
    start_date: datetime | None
    end_date: datetime | None
    hostname: str
    pid: int | None
    node_id: str | None


class TaskTryCollection(BaseModel):
    task_instances: list[TaskTry]
    total_entries: int


class TaskLog(BaseModel):
    content: str
    continuation_token: str | None
    end_of_log: bool


class XCom(BaseModel):
    key: str
    timestamp: datetime
    execution_date: datetime | None = None
    map_index: int
    task_id: str
    dag_id: str
    dag_run_id: str
    value: Any = None


class XComCollection(BaseModel):
    xcom_entries: list[XCom]
    total_entries: int


class Variable(BaseModel):
    key: str
    value: str
    description: str | None


class VariableCollection(BaseModel):
    variables: list[Variable]
    total_entries: int


class Connection(BaseModel):
    """A connection as returned: never with its password."""

    connection_id: str
    conn_type: str
    description: str | None
    host: str | None
    login: str | None
    schema_: str | None = Field(None, alias="schema", serialization_alias="schema")
    port: int | None
    extra: str | None
    has_password: bool

    model_config = {"populate_by_name": True}


class ConnectionCollection(BaseModel):
    connections: list[Connection]
    total_entries: int


class Pool(BaseModel):
    name: str
    slots: int
    occupied_slots: int
    running_slots: int
    queued_slots: int
    open_slots: int
    description: str | None


class PoolCollection(BaseModel):
    pools: list[Pool]
    total_entries: int


class ImportError(BaseModel):
    import_error_id: int
    timestamp: datetime
    filename: str
    stack_trace: str


class ImportErrorCollection(BaseModel):
    import_errors: list[ImportError]
    total_entries: int


class Node(BaseModel):
    id: str
    role: str
    hostname: str
    pid: int
    version: str
    state: str
    started_at: datetime
    last_heartbeat: datetime
    heartbeat_age_seconds: float
    alive: bool
    fingerprint: str
    divergent: bool
    details: dict[str, Any]


class NodeCollection(BaseModel):
    nodes: list[Node]
    total_entries: int


class Version(BaseModel):
    version: str
    git_version: str | None = None


class HealthPart(BaseModel):
    status: str


class SchedulerHealth(BaseModel):
    status: str
    latest_scheduler_heartbeat: datetime | None


class Health(BaseModel):
    metadatabase: HealthPart
    scheduler: SchedulerHealth


class RoleRef(BaseModel):
    name: str


class User(BaseModel):
    username: str
    email: str
    role: str
    roles: list[RoleRef]
    active: bool
    created_on: datetime
    last_login: datetime | None


class UserCollection(BaseModel):
    users: list[User]
    total_entries: int


class Role(BaseModel):
    name: str
    rank: int
    description: str


class RoleCollection(BaseModel):
    roles: list[Role]
    total_entries: int


class Token(BaseModel):
    token: str
    prefix: str
    expires_at: datetime | None


class TokenInfo(BaseModel):
    """An API token as listed: never its secret."""

    id: int
    prefix: str
    description: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCollection(BaseModel):
    tokens: list[TokenInfo]
    total_entries: int


class AuditEntry(BaseModel):
    id: int
    at: datetime
    username: str
    via: str
    client: str
    action: str
    target: str
    status: int | None
    details: dict[str, Any] | None


class AuditCollection(BaseModel):
    entries: list[AuditEntry]
    total_entries: int


class Error(BaseModel):
    type: str
    title: str
    status: int
    detail: Any


class DagBundle(BaseModel):
    name: str
    kind: str
    latest_version: str | None
    refreshed_at: datetime | None
    stored_versions: int
    dags: int


class DagBundleCollection(BaseModel):
    dag_bundles: list[DagBundle]
    total_entries: int


class DagBundleVersion(BaseModel):
    version: str
    created_at: datetime
    files: int
    runs: int


class DagBundleVersionCollection(BaseModel):
    versions: list[DagBundleVersion]
    total_entries: int
