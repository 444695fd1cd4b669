"""What every node of a DAG has in common, mapped or not.

:class:`~tandem.sdk.baseoperator.BaseOperator` (one task instance per run) and
:class:`~tandem.sdk.mapped.MappedOperator` (N task instances per run) both derive
from :class:`AbstractOperator`, which holds the scheduling attributes, the
dependency edges (stored as task ids, as the serialized form does) and the
registration in a DAG and TaskGroup.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Self

from tandem.exceptions import DagDefinitionError
from tandem.sdk.dependency import DependencyMixin
from tandem.sdk.source import SourceLocation
from tandem.sdk.trigger_rule import TriggerRule

if TYPE_CHECKING:
    from tandem.sdk.dag import DAG
    from tandem.sdk.task_group import TaskGroup
    from tandem.sdk.xcom_arg import XComArg

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
WEIGHT_RULES = ("downstream", "upstream", "absolute")
CALLBACK_EVENTS = ("success", "failure", "retry", "execute", "skipped")

# The scheduling arguments every operator accepts, with their defaults. Mapped
# operators read the same names out of their partial() kwargs.
BASE_ARG_DEFAULTS: dict[str, Any] = {
    "owner": "tandem",
    "retries": 0,
    "retry_delay": timedelta(seconds=300),
    "retry_exponential_backoff": False,
    "max_retry_delay": None,
    "execution_timeout": None,
    "trigger_rule": TriggerRule.ALL_SUCCESS.value,
    "pool": "default_pool",
    "pool_slots": 1,
    "priority_weight": 1,
    "weight_rule": "downstream",
    "queue": "default",
    "depends_on_past": False,
    "on_success_callback": None,
    "on_failure_callback": None,
    "on_retry_callback": None,
    "doc_md": None,
    "start_date": None,
    "end_date": None,
    "params": None,
    "do_xcom_push": True,
    "outlets": None,
    "inlets": None,
    "map_index_template": None,
    "max_active_tis_per_dag": None,
    "max_active_tis_per_dagrun": None,
    "on_execute_callback": None,
    "on_skipped_callback": None,
}


def check_id(kind: str, value: Any, location: SourceLocation, dag_id: str | None = None) -> str:
    """Ids end up in URLs, log paths and CLI args, so only a safe alphabet is allowed."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise DagDefinitionError(
            f"invalid {kind} {value!r}: only letters, digits, '_', '.' and '-' are allowed",
            fileloc=location.fileloc,
            lineno=location.lineno,
            dag_id=dag_id,
        )
    return value


def _as_timedelta(name: str, value: Any) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    raise TypeError(f"{name} must be a timedelta or a number of seconds, got {value!r}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


class AbstractOperator(DependencyMixin):
    """Common state of DAG nodes. Subclasses call :meth:`_init_node` from their constructor."""

    template_fields: ClassVar[Sequence[str]] = ()
    template_ext: ClassVar[Sequence[str]] = ()
    ui_color: ClassVar[str] = "#ffffff"
    is_branch: ClassVar[bool] = False
    is_short_circuit: ClassVar[bool] = False

    task_id: str
    dag: DAG | None
    task_group: TaskGroup | None
    location: SourceLocation
    multiple_outputs: bool = False
    ignore_downstream_trigger_rules: bool = False
    is_setup: bool = False
    is_teardown: bool = False
    on_failure_fail_dagrun: bool = False
    _wrapped_before: set[str]  # task ids before a ``with teardown:`` block

    def _init_node(
        self,
        *,
        task_id: str,
        dag: DAG | None,
        task_group: TaskGroup | None,
        base_args: dict[str, Any],
        location: SourceLocation,
    ) -> None:
        self.location = location
        dag_id = dag.dag_id if dag is not None else None
        check_id("task_id", task_id, location, dag_id)
        if task_group is not None and task_group.dag is not dag:
            raise DagDefinitionError(
                f"task {task_id!r} is given a TaskGroup of another DAG",
                fileloc=location.fileloc,
                lineno=location.lineno,
                dag_id=dag_id,
            )
        self.dag = dag
        self.task_group = task_group
        self.task_id = task_group.child_id(task_id) if task_group is not None else task_id
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        self._apply_base_args(base_args)

    def _apply_base_args(self, args: dict[str, Any]) -> None:
        values = {**BASE_ARG_DEFAULTS, **args}
        rule = values["trigger_rule"]
        valid = TriggerRule.all_values()
        if str(rule) not in valid:
            self._fail(
                f"task '{self.task_id}': unknown trigger rule {rule!r}; valid rules: {', '.join(valid)}"
            )
        if values["weight_rule"] not in WEIGHT_RULES:
            self._fail(
                f"task '{self.task_id}': unknown weight_rule {values['weight_rule']!r}; "
                f"valid: {', '.join(WEIGHT_RULES)}"
            )
        if int(values["pool_slots"]) < 1:
            self._fail(f"task '{self.task_id}': pool_slots must be >= 1")
        self.owner: str = values["owner"]
        self.retries: int = int(values["retries"] or 0)
        self.retry_delay: timedelta = _as_timedelta("retry_delay", values["retry_delay"])  # type: ignore[assignment]
        self.retry_exponential_backoff: bool = bool(values["retry_exponential_backoff"])
        self.max_retry_delay = _as_timedelta("max_retry_delay", values["max_retry_delay"])
        self.execution_timeout = _as_timedelta("execution_timeout", values["execution_timeout"])
        self.trigger_rule: str = str(TriggerRule(str(rule)).value)
        self.pool: str = values["pool"]
        self.pool_slots: int = int(values["pool_slots"])
        self.priority_weight: int = int(values["priority_weight"])
        self.weight_rule: str = values["weight_rule"]
        self.queue: str = values["queue"]
        self.depends_on_past: bool = bool(values["depends_on_past"])
        self.on_success_callback = values["on_success_callback"]
        self.on_failure_callback = values["on_failure_callback"]
        self.on_retry_callback = values["on_retry_callback"]
        self.doc_md: str | None = values["doc_md"]
        self.start_date = values["start_date"]
        self.end_date = values["end_date"]
        self.params: dict[str, Any] = dict(values["params"] or {})
        self.do_xcom_push: bool = bool(values["do_xcom_push"])
        self.outlets: list[Any] = _as_list(values["outlets"])
        self.inlets: list[Any] = _as_list(values["inlets"])
        self.map_index_template: str | None = values["map_index_template"]
        self.max_active_tis_per_dag: int | None = values["max_active_tis_per_dag"]
        self.max_active_tis_per_dagrun: int | None = values["max_active_tis_per_dagrun"]
        self.on_execute_callback = values["on_execute_callback"]
        self.on_skipped_callback = values["on_skipped_callback"]

    def _fail(self, problem: str) -> None:
        location = getattr(self, "location", None)
        dag = getattr(self, "dag", None)
        raise DagDefinitionError(
            problem,
            fileloc=location.fileloc if location else None,
            lineno=location.lineno if location else None,
            dag_id=dag.dag_id if dag is not None else None,
        )

    # -- dependencies ---------------------------------------------------------
    def dependency_roots(self) -> list[AbstractOperator]:
        return [self]

    def dependency_leaves(self) -> list[AbstractOperator]:
        return [self]

    def add_edge_to(self, downstream: AbstractOperator) -> None:
        """Record ``self >> downstream``; both must belong to the same DAG."""
        if self.dag is not downstream.dag:
            raise DagDefinitionError(
                f"cannot set a dependency between '{self.task_id}' and '{downstream.task_id}': "
                "they belong to different DAGs (or one has no DAG)",
                fileloc=downstream.location.fileloc,
                lineno=downstream.location.lineno,
            )
        self.downstream_task_ids.add(downstream.task_id)
        downstream.upstream_task_ids.add(self.task_id)

    # -- mapping -------------------------------------------------------------
    @property
    def is_mapped(self) -> bool:
        """True when one task instance per element runs (a task in a mapped task group is)."""
        return self.mapped_task_group() is not None

    def mapped_task_group(self) -> TaskGroup | None:
        """The innermost enclosing task group that is expanded, if any."""
        group = self.task_group
        while group is not None:
            if group.expand_input is not None:
                return group
            group = group.parent_group
        return None

    # -- setup/teardown ------------------------------------------------------
    def as_setup(self) -> AbstractOperator:
        """Mark this task as a setup: teardowns downstream run if at least one setup succeeded."""
        self.is_setup = True
        return self

    def as_teardown(self, *, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> AbstractOperator:
        """Mark this task as a teardown of ``setups`` (made upstream of it).

        A teardown runs once everything upstream is done and a setup succeeded, and its
        failure leaves the run's state alone unless ``on_failure_fail_dagrun``.
        """
        self.is_teardown = True
        self.trigger_rule = TriggerRule.ALL_DONE_SETUP_SUCCESS.value
        if on_failure_fail_dagrun is not None:
            self.on_failure_fail_dagrun = on_failure_fail_dagrun
        if setups is not None:
            for setup in setups if isinstance(setups, (list, tuple)) else [setups]:
                setup.as_setup()
                setup.set_downstream(self)
        return self

    def __enter__(self) -> Self:
        """``with teardown.as_teardown(setups=setup):`` wraps the tasks created in the block."""
        if not self.is_teardown:
            self._fail(f"task '{self.task_id}': only a teardown task can be used as a context manager")
        self._wrapped_before = set(self._require_dag().task_dict)
        return self

    def __exit__(self, *exc: object) -> None:
        dag = self._require_dag()
        added = {t: dag.task_dict[t] for t in dag.task_dict.keys() - self._wrapped_before if t != self.task_id}
        setups = [dag.task_dict[t] for t in self.upstream_task_ids if dag.task_dict[t].is_setup]
        for task in added.values():
            if not task.upstream_task_ids & added.keys():
                for setup in setups:
                    setup.set_downstream(task)
            if not task.downstream_task_ids & added.keys():
                task.set_downstream(self)

    @property
    def upstream_list(self) -> list[AbstractOperator]:
        return [self._require_dag().get_task(t) for t in sorted(self.upstream_task_ids)]

    @property
    def downstream_list(self) -> list[AbstractOperator]:
        return [self._require_dag().get_task(t) for t in sorted(self.downstream_task_ids)]

    def _require_dag(self) -> DAG:
        if self.dag is None:
            raise RuntimeError(f"task '{self.task_id}' is not attached to a DAG")
        return self.dag

    # -- derived values -------------------------------------------------------
    @property
    def priority_weight_total(self) -> int:
        """Priority after applying ``weight_rule`` (sum over downstream/upstream tasks)."""
        if self.weight_rule == "absolute" or self.dag is None:
            return self.priority_weight
        direction = "downstream_task_ids" if self.weight_rule == "downstream" else "upstream_task_ids"
        seen: set[str] = set()
        stack = list(getattr(self, direction))
        while stack:
            task_id = stack.pop()
            if task_id not in seen:
                seen.add(task_id)
                stack.extend(getattr(self.dag.task_dict[task_id], direction))
        return self.priority_weight + sum(self.dag.task_dict[t].priority_weight for t in seen)

    def callbacks_for(self, event: str) -> list[Callable[[dict[str, Any]], Any]]:
        """The callbacks to run on ``event`` (one of :data:`CALLBACK_EVENTS`), as a list."""
        if event not in CALLBACK_EVENTS:
            raise ValueError(f"unknown callback event {event!r}; expected one of {CALLBACK_EVENTS}")
        value = getattr(self, f"on_{event}_callback")
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def xcoms_to_push(self, result: Any) -> dict[str, Any]:
        """XComs the runner should store for ``result`` (key -> value)."""
        if not self.do_xcom_push or result is None:
            return {}
        pushed: dict[str, Any] = {"return_value": result}
        if self.multiple_outputs:
            if not isinstance(result, dict) or not all(isinstance(k, str) for k in result):
                raise TypeError(
                    f"task '{self.task_id}' has multiple_outputs=True but returned "
                    f"{type(result).__name__}, not a dict with string keys"
                )
            for key, value in result.items():
                if key == "return_value":
                    raise TypeError(f"task '{self.task_id}': 'return_value' is reserved as an output key")
                pushed[key] = value
        return pushed

    @property
    def log(self) -> logging.Logger:
        """Where the operator's messages go: the task's log."""
        from tandem.sdk.task_log import task_logger

        return task_logger(self)

    @property
    def output(self) -> XComArg:
        """A reference to this task's return value, resolved at run time."""
        from tandem.sdk.xcom_arg import XComArg

        return XComArg(self)

    @property
    def operator_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.operator_name}: {self.task_id}>"
