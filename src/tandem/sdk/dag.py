"""DAG: a named graph of tasks plus when and how to run it.

A DAG is built by executing a DAG file; :class:`DagCollector` records the DAGs a
file creates and :func:`collect_dags` turns a module's namespace into the list the
parser serializes. Structural checks raise
:class:`~tandem.exceptions.DagDefinitionError` pointing at ``file:line``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from tandem.exceptions import DagDefinitionError, ParamValidationError
from tandem.sdk import dag_context
from tandem.sdk.abstractoperator import check_id
from tandem.sdk.params import ParamsDict
from tandem.sdk.schedule import Schedule, ScheduleArg, parse_schedule
from tandem.sdk.source import caller_location
from tandem.sdk.task_group import TaskGroup
from tandem.sdk.timetable_specs import spec_timezone

if TYPE_CHECKING:
    from tandem.sdk.abstractoperator import AbstractOperator

_UNSET: Any = object()


def timezone_name(tz: tzinfo | None) -> str:
    """The IANA name of ``tz``; fixed UTC offsets other than 0 are rejected."""
    if tz is None:
        return "UTC"
    key = getattr(tz, "key", None) or getattr(tz, "name", None)  # zoneinfo / pendulum
    if isinstance(key, str) and key:
        return key
    if isinstance(tz, timezone) and tz.utcoffset(None) == timedelta(0):
        return "UTC"
    raise ValueError(f"time zone {tz!r} has no IANA name; use zoneinfo.ZoneInfo('Area/City')")


class DAG:
    """A workflow: tasks, their dependencies, and a schedule.

    :param dag_id: unique id (letters, digits, ``_``, ``.``, ``-``).
    :param schedule: None (manual only), a cron expression, a preset
        (``@once``, ``@hourly``, ``@daily``, ``@weekly``, ``@monthly``, ``@yearly``)
        or a ``timedelta``.
    :param start_date, end_date: first/last logical dates; a naive datetime is
        taken in ``timezone`` (default UTC). Required when ``schedule`` is set.
    :param catchup: create runs for every missed interval since ``start_date``.
    :param max_active_runs, max_active_tasks: concurrency limits of this DAG.
    :param default_args: defaults for every operator argument not passed explicitly.
    :param params: name -> :class:`~tandem.sdk.params.Param` or plain default.
    :param dagrun_timeout: fail a run that takes longer than this.
    :param timezone: IANA name (or tzinfo) cron schedules are evaluated in; defaults
        to the time zone of ``start_date``.
    :param template_searchpath: extra folders for template files.
    :param user_defined_macros, user_defined_filters: extra Jinja globals / filters.
    :param render_template_as_native_obj: templates render to Python objects (Jinja's
        NativeEnvironment), not strings.
    :param jinja_environment_kwargs: extra arguments of the Jinja environment.
    :param dag_display_name: the name shown in the UI (default: the dag_id).
    """

    def __init__(
        self,
        dag_id: str,
        *,
        schedule: ScheduleArg = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        catchup: bool = False,
        max_active_runs: int = 16,
        max_active_tasks: int = 16,
        default_args: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        description: str | None = None,
        dagrun_timeout: timedelta | None = None,
        doc_md: str | None = None,
        on_success_callback: Callable[..., Any] | list[Callable[..., Any]] | None = None,
        on_failure_callback: Callable[..., Any] | list[Callable[..., Any]] | None = None,
        timezone: str | tzinfo | None = None,
        template_searchpath: str | Iterable[str] | None = None,
        template_undefined: type | None = None,
        user_defined_macros: dict[str, Any] | None = None,
        user_defined_filters: dict[str, Callable[..., Any]] | None = None,
        schedule_interval: ScheduleArg = _UNSET,
        render_template_as_native_obj: bool = False,
        jinja_environment_kwargs: dict[str, Any] | None = None,
        dag_display_name: str | None = None,
        is_paused_upon_creation: bool | None = None,
        access_control: dict[str, Any] | None = None,
        owner_links: dict[str, str] | None = None,
        max_consecutive_failed_dag_runs: int = 0,
        fail_fast: bool = False,
        auto_register: bool = True,
        deadline: Any = None,
        sla_miss_callback: Any = None,
        allowed_run_types: Any = None,
        disable_bundle_versioning: bool = False,
        rerun_with_latest_version: bool | None = None,
    ) -> None:
        location = caller_location()
        self.fileloc = location.fileloc
        self.definition_lineno = location.lineno
        self.dag_id = check_id("dag_id", dag_id, location)
        if schedule_interval is not _UNSET:  # Airflow < 2.4 spelling
            schedule = schedule_interval
        try:
            self.schedule: Schedule = parse_schedule(schedule)
        except ValueError as err:
            raise self._error(f"unparsable schedule: {err}") from None

        self.default_args: dict[str, Any] = dict(default_args or {})
        self.timezone = self._resolve_timezone(
            timezone or spec_timezone(schedule), start_date or self.default_args.get("start_date")
        )
        self.start_date = self._aware(start_date or self.default_args.get("start_date"), "start_date")
        self.end_date = self._aware(end_date or self.default_args.get("end_date"), "end_date")
        if self.schedule.kind != "none" and self.start_date is None:
            raise self._error(
                f"start_date is required for a scheduled DAG (schedule={self.schedule.summary})"
            )
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise self._error("end_date is before start_date")

        self.catchup = catchup
        self.max_active_runs = max_active_runs
        self.max_active_tasks = max_active_tasks
        self.params = ParamsDict()
        self.params.update_params(self.default_args.get("params") or {})
        self.params.update_params(params or {})
        self.tags = list(tags or [])
        self.description = description
        self.dagrun_timeout = dagrun_timeout
        self.doc_md = doc_md
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        if isinstance(template_searchpath, str):
            template_searchpath = [template_searchpath]
        self.template_searchpath: list[str] = list(template_searchpath or [])
        self.template_undefined = template_undefined
        self.user_defined_macros = dict(user_defined_macros or {})
        self.user_defined_filters = dict(user_defined_filters or {})
        self.render_template_as_native_obj = render_template_as_native_obj
        self.jinja_environment_kwargs = dict(jinja_environment_kwargs or {})
        self.dag_display_name = dag_display_name or dag_id
        # Airflow arguments accepted so DAG files run unchanged, kept but not acted on
        # (docs/airflow.md): Tandem has no per-DAG access control, deadlines or fail-fast yet.
        self.is_paused_upon_creation = is_paused_upon_creation
        self.access_control = access_control
        self.owner_links = dict(owner_links or {})
        self.max_consecutive_failed_dag_runs = max_consecutive_failed_dag_runs
        self.fail_fast = fail_fast
        self.auto_register = auto_register
        self.deadline = deadline
        self.sla_miss_callback = sla_miss_callback
        self.allowed_run_types = allowed_run_types
        self.disable_bundle_versioning = disable_bundle_versioning
        self.rerun_with_latest_version = rerun_with_latest_version
        self._jinja_env: Any = None

        self.task_dict: dict[str, AbstractOperator] = {}
        self.task_group = TaskGroup(None, dag=self)
        dag_context.record_created_dag(self)

    # -- construction helpers --------------------------------------------------
    def _error(
        self, problem: str, *, lineno: int | None = None, fileloc: str | None = None
    ) -> DagDefinitionError:
        return DagDefinitionError(
            problem,
            fileloc=fileloc or self.fileloc,
            lineno=lineno or self.definition_lineno,
            dag_id=getattr(self, "dag_id", None),
        )

    def _resolve_timezone(self, tz: str | tzinfo | None, start_date: datetime | None) -> tzinfo:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            if isinstance(tz, str):
                tz = ZoneInfo(tz)
            if tz is None and start_date is not None and start_date.tzinfo is not None:
                tz = start_date.tzinfo
            tz = tz or ZoneInfo("UTC")
            self.timezone_name = timezone_name(tz)
            return ZoneInfo(self.timezone_name)
        except (ValueError, ZoneInfoNotFoundError) as err:
            raise self._error(f"invalid time zone: {err}") from None

    def _aware(self, value: datetime | None, name: str) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise self._error(f"{name} must be a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=self.timezone)
        return value

    # -- tasks -----------------------------------------------------------------
    def add_task(self, task: AbstractOperator) -> None:
        """Register ``task``; a second task with the same id is a definition error."""
        if task.task_id in self.task_dict and self.task_dict[task.task_id] is not task:
            raise self._error(
                f"duplicate task_id '{task.task_id}'",
                fileloc=task.location.fileloc,
                lineno=task.location.lineno,
            )
        self.task_dict[task.task_id] = task

    @property
    def tasks(self) -> list[AbstractOperator]:
        return list(self.task_dict.values())

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    def get_task(self, task_id: str) -> AbstractOperator:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise KeyError(f"DAG '{self.dag_id}' has no task '{task_id}'") from None

    @property
    def roots(self) -> list[AbstractOperator]:
        return [t for t in self.task_dict.values() if not t.upstream_task_ids]

    @property
    def leaves(self) -> list[AbstractOperator]:
        return [t for t in self.task_dict.values() if not t.downstream_task_ids]

    @property
    def owner(self) -> str:
        owners = sorted({t.owner for t in self.task_dict.values()})
        return ", ".join(owners) if owners else str(self.default_args.get("owner", "tandem"))

    # -- structure -------------------------------------------------------------
    def find_cycle(self) -> list[str] | None:
        """A cycle as a list of task ids (first == last), or None."""
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        for start in self.task_dict:
            if state.get(start):
                continue
            path: list[str] = [start]
            iters = [iter(sorted(self.task_dict[start].downstream_task_ids))]
            state[start] = 1
            while iters:
                nxt = next(iters[-1], None)
                if nxt is None:
                    state[path.pop()] = 2
                    iters.pop()
                elif state.get(nxt) == 1:
                    return path[path.index(nxt) :] + [nxt]
                elif not state.get(nxt):
                    state[nxt] = 1
                    path.append(nxt)
                    iters.append(iter(sorted(self.task_dict[nxt].downstream_task_ids)))
        return None

    def topological_sort(self) -> list[AbstractOperator]:
        """Tasks with every task after its upstreams; ties keep definition order."""
        order = {task_id: i for i, task_id in enumerate(self.task_dict)}
        pending = {t: len(task.upstream_task_ids) for t, task in self.task_dict.items()}
        ready = deque(t for t in self.task_dict if pending[t] == 0)
        result: list[AbstractOperator] = []
        while ready:
            task = self.task_dict[ready.popleft()]
            result.append(task)
            for down in sorted(task.downstream_task_ids, key=order.__getitem__):
                pending[down] -= 1
                if pending[down] == 0:
                    ready.append(down)
        if len(result) != len(self.task_dict):
            self._raise_cycle()
        return result

    def _raise_cycle(self) -> None:
        cycle = self.find_cycle() or []
        raise self._error(f"cycle detected: {' -> '.join(cycle)}")

    def validate(self) -> None:
        """Check the whole DAG; raises DagDefinitionError."""
        for task in self.task_dict.values():
            missing = (task.upstream_task_ids | task.downstream_task_ids) - self.task_dict.keys()
            if missing:
                raise self._error(f"task '{task.task_id}' depends on unknown task(s) {sorted(missing)}")
        if self.find_cycle():
            self._raise_cycle()
        try:
            self.params.validate_defaults()
            for task in self.task_dict.values():
                ParamsDict(task.params).validate_defaults()
        except ParamValidationError as err:
            raise self._error(str(err)) from None

    # -- context manager -------------------------------------------------------
    def __enter__(self) -> DAG:
        dag_context.push_dag(self)
        return self

    def __exit__(self, *exc: object) -> None:
        dag_context.pop_dag()

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"


class DagCollector:
    """Records every DAG constructed while active, in creation order.

    ``with DagCollector() as c: exec(code, namespace)``; then ``c.dags`` (every DAG
    created, assigned to a global or not) or ``c.collect(namespace)``.
    """

    def __init__(self) -> None:
        self.dags: list[DAG] = []
        self._cm: Any = None

    def __enter__(self) -> DagCollector:
        self._cm = dag_context.collecting(self.dags)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)

    def collect(self, module_namespace: dict[str, Any], *, validate: bool = True) -> list[DAG]:
        return collect_dags(module_namespace, created=self.dags, validate=validate)


def collect_dags(
    module_namespace: dict[str, Any],
    created: Iterable[DAG] | None = None,
    *,
    validate: bool = True,
) -> list[DAG]:
    """The DAGs a DAG file defines: DAG globals plus DAGs created during its import.

    ``created`` defaults to the DAGs recorded by the innermost active
    :class:`DagCollector` (so ``@dag`` functions called at module level count even
    if their result is not assigned). Each DAG is validated unless ``validate`` is
    false; two different DAGs with one id are an error.
    """
    if created is None:
        created = dag_context.active_collection() or []
    found: list[DAG] = []
    for value in [*module_namespace.values(), *created]:
        if isinstance(value, DAG) and not any(value is d for d in found):
            found.append(value)
    by_id: dict[str, DAG] = {}
    for dag in found:
        if dag.dag_id in by_id:
            first = by_id[dag.dag_id]
            raise dag._error(
                f"duplicate dag_id (already defined at {first.fileloc}:{first.definition_lineno})"
            )
        by_id[dag.dag_id] = dag
        if validate:
            dag.validate()
    return found
