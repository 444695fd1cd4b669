"""DAG <-> JSON. The scheduler and UI only ever see this form.

:func:`serialize_dag` produces a JSON-safe dict whose canonical dump
(``sort_keys=True``) is stable across parses of an unchanged file, so
:func:`dag_hash` detects changes. :class:`SerializedDag` is its read-only view.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tandem.exceptions import DagDefinitionError, ParamValidationError
from tandem.sdk.executor_config import serialize_executor_config
from tandem.sdk.params import ParamsDict
from tandem.sdk.task_group import TaskGroup

if TYPE_CHECKING:
    from tandem.sdk.abstractoperator import AbstractOperator
    from tandem.sdk.dag import DAG
    from tandem.sdk.timetables import Timetable


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _has_callback(value: Any) -> bool:
    return bool(value) if isinstance(value, (list, tuple)) else value is not None


def serialize_task(task: AbstractOperator) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task_id": task.task_id,
        "operator": task.operator_name,
        "task_group": (task.task_group.group_id or "") if task.task_group is not None else "",
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
        "trigger_rule": task.trigger_rule,
        "retries": task.retries,
        "retry_delay": task.retry_delay.total_seconds(),
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "max_retry_delay": _seconds(task.max_retry_delay),
        "execution_timeout": _seconds(task.execution_timeout),
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "priority_weight": task.priority_weight_total,
        "queue": task.queue,
        "depends_on_past": task.depends_on_past,
        "owner": task.owner,
        "doc_md": task.doc_md,
        "template_fields": list(task.template_fields),
        "is_branch": task.is_branch,
        "is_short_circuit": task.is_short_circuit,
        "ignore_downstream_trigger_rules": bool(task.ignore_downstream_trigger_rules),
        "has_callbacks": {
            event: bool(task.callbacks_for(event)) for event in ("success", "failure", "retry")
        },
        "ui_color": task.ui_color,
        "params": ParamsDict(task.params).serialize(),
        "is_setup": task.is_setup,
        "is_teardown": task.is_teardown,
        "on_failure_fail_dagrun": task.on_failure_fail_dagrun,
        "max_active_tis_per_dag": task.max_active_tis_per_dag,
        "max_active_tis_per_dagrun": task.max_active_tis_per_dagrun,
        "mapped": {"sources": task.expand_sources()} if task.is_mapped else None,  # type: ignore[attr-defined]
        "mapped_group": group.group_id if (group := task.mapped_task_group()) is not None else None,
        # Only ExternalTaskMarker has one: what a recursive clear follows into another DAG.
        **({"clears_external": marker} if (marker := getattr(task, "clears_external", None)) else {}),
    }
    # Only when set, so the hash of every DAG without one stays what it was.
    executor_config = serialize_executor_config(task.task_id, getattr(task, "executor_config", None))
    if executor_config is not None:
        data["executor_config"] = executor_config
    return data


def _serialize_groups(root: TaskGroup) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for group in root.iter_groups():
        group_id = group.group_id or ""
        parent = group.parent_group
        groups[group_id] = {
            "group_id": group_id,
            "parent": None if parent is None else (parent.group_id or ""),
            "children": sorted(
                (child.group_id or "") if isinstance(child, TaskGroup) else child.task_id
                for child in group.children.values()
            ),
            "tooltip": group.tooltip,
        }
    return groups


def serialize_dag(dag: DAG) -> dict[str, Any]:
    """The JSON form of ``dag`` (validates it first). Tasks are in topological order."""
    dag.validate()
    try:
        params = dag.params.serialize()
    except ParamValidationError as err:
        raise DagDefinitionError(
            str(err), fileloc=dag.fileloc, lineno=dag.definition_lineno, dag_id=dag.dag_id
        ) from None
    return {
        "dag_id": dag.dag_id,
        "fileloc": dag.fileloc,
        "definition_lineno": dag.definition_lineno,
        "description": dag.description,
        "doc_md": dag.doc_md,
        "tags": sorted(dag.tags),
        "owner": dag.owner,
        "schedule": dag.schedule.to_dict(),
        "timezone": dag.timezone_name,
        "start_date": _iso(dag.start_date),
        "end_date": _iso(dag.end_date),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "dagrun_timeout": _seconds(dag.dagrun_timeout),
        "has_on_success_callback": _has_callback(dag.on_success_callback),
        "has_on_failure_callback": _has_callback(dag.on_failure_callback),
        "params": params,
        "task_groups": _serialize_groups(dag.task_group),
        "tasks": [serialize_task(task) for task in dag.topological_sort()],
    }


def canonical_json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dag_hash(data: dict[str, Any]) -> str:
    """sha256 hex digest of the canonical JSON of a serialized DAG."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


# -- read-only view -------------------------------------------------------------


def _parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


@dataclass(frozen=True)
class SerializedSchedule:
    kind: str
    expr: str | None
    seconds: float | None
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "expr": self.expr, "seconds": self.seconds, "summary": self.summary}


@dataclass(frozen=True)
class SerializedTask:
    """One task of a serialized DAG (field names match the JSON keys)."""

    task_id: str
    operator: str
    task_group: str
    upstream: tuple[str, ...]
    downstream: tuple[str, ...]
    trigger_rule: str
    retries: int
    retry_delay: float
    retry_exponential_backoff: bool
    max_retry_delay: float | None
    execution_timeout: float | None
    pool: str
    pool_slots: int
    priority_weight: int
    queue: str
    depends_on_past: bool
    owner: str
    doc_md: str | None
    template_fields: tuple[str, ...]
    is_branch: bool
    is_short_circuit: bool
    ignore_downstream_trigger_rules: bool
    has_callbacks: dict[str, bool]
    ui_color: str
    mapped: dict[str, Any] | None
    # Added later: defaults keep DAGs serialized before them readable.
    params: dict[str, Any] = field(default_factory=dict)
    is_setup: bool = False
    is_teardown: bool = False
    on_failure_fail_dagrun: bool = False
    max_active_tis_per_dag: int | None = None
    max_active_tis_per_dagrun: int | None = None
    mapped_group: str | None = None
    executor_config: dict[str, Any] | None = None

    @property
    def is_mapped(self) -> bool:
        return self.mapped is not None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SerializedTask:
        values = dict(data)
        for key in ("upstream", "downstream", "template_fields"):
            values[key] = tuple(values[key])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for key in ("upstream", "downstream", "template_fields"):
            data[key] = list(data[key])
        if data["executor_config"] is None:
            del data["executor_config"]
        return data


@dataclass(frozen=True)
class SerializedDag:
    """Read-only view of a serialized DAG; ``from_dict(d).to_dict() == d``."""

    dag_id: str
    fileloc: str
    definition_lineno: int
    description: str | None
    doc_md: str | None
    tags: tuple[str, ...]
    owner: str
    schedule: SerializedSchedule
    timezone: str
    start_date: datetime | None
    end_date: datetime | None
    catchup: bool
    max_active_runs: int
    max_active_tasks: int
    dagrun_timeout: float | None
    has_on_success_callback: bool
    has_on_failure_callback: bool
    params: dict[str, dict[str, Any]]
    task_groups: dict[str, dict[str, Any]]
    tasks: tuple[SerializedTask, ...]
    task_dict: dict[str, SerializedTask] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SerializedDag:
        tasks = tuple(SerializedTask.from_dict(t) for t in data["tasks"])
        return cls(
            dag_id=data["dag_id"],
            fileloc=data["fileloc"],
            definition_lineno=data["definition_lineno"],
            description=data["description"],
            doc_md=data["doc_md"],
            tags=tuple(data["tags"]),
            owner=data["owner"],
            schedule=SerializedSchedule(**data["schedule"]),
            timezone=data["timezone"],
            start_date=_parse_dt(data["start_date"]),
            end_date=_parse_dt(data["end_date"]),
            catchup=data["catchup"],
            max_active_runs=data["max_active_runs"],
            max_active_tasks=data["max_active_tasks"],
            dagrun_timeout=data["dagrun_timeout"],
            has_on_success_callback=data["has_on_success_callback"],
            has_on_failure_callback=data["has_on_failure_callback"],
            params=data["params"],
            task_groups=data["task_groups"],
            tasks=tasks,
            task_dict={t.task_id: t for t in tasks},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "fileloc": self.fileloc,
            "definition_lineno": self.definition_lineno,
            "description": self.description,
            "doc_md": self.doc_md,
            "tags": list(self.tags),
            "owner": self.owner,
            "schedule": self.schedule.to_dict(),
            "timezone": self.timezone,
            "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date),
            "catchup": self.catchup,
            "max_active_runs": self.max_active_runs,
            "max_active_tasks": self.max_active_tasks,
            "dagrun_timeout": self.dagrun_timeout,
            "has_on_success_callback": self.has_on_success_callback,
            "has_on_failure_callback": self.has_on_failure_callback,
            "params": self.params,
            "task_groups": self.task_groups,
            "tasks": [t.to_dict() for t in self.tasks],
        }

    def get_task(self, task_id: str) -> SerializedTask:
        return self.task_dict[task_id]

    @property
    def timetable(self) -> Timetable:
        from tandem.sdk.timetables import timetable_for

        return timetable_for(self.schedule.to_dict(), self.timezone)
