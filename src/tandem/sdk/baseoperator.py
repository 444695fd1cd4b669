"""BaseOperator: the unit of work in a DAG.

Operators are described by their constructor arguments. DAG ``default_args``
fill every constructor argument (of the operator class and its bases) that the
author did not pass explicitly, which is implemented by wrapping each subclass's
``__init__`` in :func:`_apply_default_args`.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from tandem.sdk import dag_context
from tandem.sdk.abstractoperator import AbstractOperator
from tandem.sdk.source import caller_location
from tandem.sdk.templating import jinja_environment, render_value
from tandem.sdk.xcom_arg import iter_xcom_args, resolve_references

if TYPE_CHECKING:
    from tandem.sdk.dag import DAG
    from tandem.sdk.mapped import OperatorPartial
    from tandem.sdk.task_group import TaskGroup

F = TypeVar("F", bound=Callable[..., Any])
_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
# Besides template_fields, these arguments may hold XComArgs (classic PythonOperator).
_REFERENCE_FIELDS = ("op_args", "op_kwargs")


def _apply_default_args(init: F) -> F:
    """Wrap an operator ``__init__`` so DAG/explicit ``default_args`` fill missing arguments."""
    signature = inspect.signature(init)
    names = [p.name for p in signature.parameters.values() if p.kind in _KEYWORD_KINDS and p.name != "self"]

    @functools.wraps(init)
    def wrapper(self: BaseOperator, *args: Any, **kwargs: Any) -> None:
        outermost = not self.__dict__.get("_initialising", False)
        if outermost:
            self._initialising = True
            explicit_dag = kwargs.get("dag")
            dag = (
                explicit_dag
                if explicit_dag is not None
                else (None if dag_context.is_detached() else dag_context.current_dag())
            )
            group = kwargs.get("task_group") or (dag_context.current_group(dag) if dag is not None else None)
            self._default_args = {
                **(dag.default_args if dag is not None else {}),
                **(group.inherited_default_args() if group is not None else {}),
                **(kwargs.pop("default_args", None) or {}),
            }
        else:
            kwargs.pop("default_args", None)
        bound = signature.bind_partial(self, *args).arguments
        for name in names:
            if name not in kwargs and name not in bound and name in self._default_args:
                kwargs[name] = self._default_args[name]
        init(self, *args, **kwargs)
        if outermost:
            self._initialising = False
            self._after_init()

    wrapper.__tandem_wrapped__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class BaseOperator(AbstractOperator):
    """Base class of all operators: subclasses implement :meth:`execute`.

    :param task_id: unique id within the DAG (prefixed with the TaskGroup id).
    :param retries: how many times a failed try is retried.
    :param retry_delay: wait before a retry (doubled per try with ``retry_exponential_backoff``).
    :param max_retry_delay: cap on the exponential delay.
    :param execution_timeout: the runner kills the task after this long.
    :param trigger_rule: a :class:`~tandem.sdk.trigger_rule.TriggerRule` value.
    :param pool, pool_slots: the pool and how many of its slots one try occupies.
    :param priority_weight, weight_rule: scheduling priority; ``downstream`` (default)
        sums the weights of the task and everything downstream of it.
    :param queue: executor queue.
    :param depends_on_past: wait for this task's success in the previous run.
    :param on_success_callback, on_failure_callback, on_retry_callback: a callable
        or list of callables taking the context; run by the runner.
    :param owner, doc_md: shown in the UI.
    :param dag, task_group: explicit placement (defaults: the open ``with`` blocks).
    :param do_xcom_push: push ``execute``'s return value as an XCom.
    """

    # Set by the __init__ wrapper: the default_args in force, and whether an __init__ of
    # this instance is already running (so a subclass's super().__init__ does not redo it).
    _default_args: dict[str, Any]
    _initialising: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "__tandem_wrapped__", False):
            cls.__init__ = _apply_default_args(init)  # type: ignore[method-assign]

    @_apply_default_args
    def __init__(
        self,
        task_id: str,
        *,
        owner: str = "tandem",
        retries: int = 0,
        retry_delay: timedelta | float = timedelta(seconds=300),
        retry_exponential_backoff: bool = False,
        max_retry_delay: timedelta | float | None = None,
        execution_timeout: timedelta | float | None = None,
        trigger_rule: str = "all_success",
        pool: str = "default_pool",
        pool_slots: int = 1,
        priority_weight: int = 1,
        weight_rule: str = "downstream",
        queue: str = "default",
        depends_on_past: bool = False,
        on_success_callback: Any = None,
        on_failure_callback: Any = None,
        on_retry_callback: Any = None,
        doc_md: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        params: dict[str, Any] | None = None,
        do_xcom_push: bool = True,
        dag: DAG | None = None,
        task_group: TaskGroup | None = None,
        outlets: Any = None,
        inlets: Any = None,
        map_index_template: str | None = None,
        max_active_tis_per_dag: int | None = None,
        max_active_tis_per_dagrun: int | None = None,
        on_execute_callback: Any = None,
        on_skipped_callback: Any = None,
        email: str | list[str] | None = None,
        email_on_retry: bool = True,
        email_on_failure: bool = True,
        ignore_first_depends_on_past: bool = True,
        wait_for_past_depends_before_skipping: bool = False,
        wait_for_downstream: bool = False,
        resources: dict[str, Any] | None = None,
        run_as_user: str | None = None,
        executor: str | None = None,
        executor_config: dict[str, Any] | None = None,
        doc: str | None = None,
        doc_json: str | None = None,
        doc_yaml: str | None = None,
        doc_rst: str | None = None,
        task_display_name: str | None = None,
        logger_name: str | None = None,
        allow_nested_operators: bool = True,
        render_template_as_native_obj: bool | None = None,
        multiple_outputs: bool = False,
        pre_execute: Callable[[dict[str, Any]], Any] | None = None,
        post_execute: Callable[[dict[str, Any], Any], Any] | None = None,
        sla: timedelta | None = None,
    ) -> None:
        detached = dag_context.is_detached()
        if dag is None and not detached:
            dag = dag_context.current_dag()
        if task_group is None and not detached:
            task_group = dag_context.current_group(dag)
        self.map_index = -1
        self._init_node(
            task_id=task_id,
            dag=dag,
            task_group=task_group,
            location=caller_location(),
            base_args={
                "owner": owner,
                "retries": retries,
                "retry_delay": retry_delay,
                "retry_exponential_backoff": retry_exponential_backoff,
                "max_retry_delay": max_retry_delay,
                "execution_timeout": execution_timeout,
                "trigger_rule": trigger_rule,
                "pool": pool,
                "pool_slots": pool_slots,
                "priority_weight": priority_weight,
                "weight_rule": weight_rule,
                "queue": queue,
                "depends_on_past": depends_on_past,
                "on_success_callback": on_success_callback,
                "on_failure_callback": on_failure_callback,
                "on_retry_callback": on_retry_callback,
                "doc_md": doc_md,
                "start_date": start_date,
                "end_date": end_date,
                "params": params,
                "do_xcom_push": do_xcom_push,
                "outlets": outlets,
                "inlets": inlets,
                "map_index_template": map_index_template,
                "max_active_tis_per_dag": max_active_tis_per_dag,
                "max_active_tis_per_dagrun": max_active_tis_per_dagrun,
                "on_execute_callback": on_execute_callback,
                "on_skipped_callback": on_skipped_callback,
            },
        )
        # Airflow arguments accepted so DAG files run unchanged, kept on the task but not acted
        # on (docs/airflow.md): Tandem sends no mail and has one executor and one user.
        airflow_only = {
            "email": email, "email_on_retry": email_on_retry, "email_on_failure": email_on_failure,
            "ignore_first_depends_on_past": ignore_first_depends_on_past,
            "wait_for_past_depends_before_skipping": wait_for_past_depends_before_skipping,
            "wait_for_downstream": wait_for_downstream, "resources": resources, "run_as_user": run_as_user,
            "executor": executor, "executor_config": executor_config, "doc": doc, "doc_json": doc_json,
            "doc_yaml": doc_yaml, "doc_rst": doc_rst, "task_display_name": task_display_name,
            "logger_name": logger_name, "allow_nested_operators": allow_nested_operators,
            "render_template_as_native_obj": render_template_as_native_obj, "sla": sla,
        }
        for name, value in airflow_only.items():
            setattr(self, name, value)
        self.multiple_outputs = multiple_outputs
        self._pre_execute_hook = pre_execute
        self._post_execute_hook = post_execute

    def _after_init(self) -> None:
        """Register in the DAG and infer dependencies from XComArgs in arguments."""
        if dag_context.is_detached():
            return
        if self.dag is not None:
            self.dag.add_task(self)
        if self.task_group is not None:
            self.task_group.add(self)
        for field in self.reference_fields():
            for xcom_arg in iter_xcom_args(getattr(self, field, None)):
                xcom_arg.set_downstream(self)

    def reference_fields(self) -> list[str]:
        """The attributes that may hold XComArg or DagParam references to resolve at run time."""
        fields = list(self.template_fields)
        fields.extend(f for f in _REFERENCE_FIELDS if f not in fields and hasattr(self, f))
        return fields

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """Fix arguments shared by every mapped instance; follow with ``.expand(...)``."""
        from tandem.sdk.mapped import OperatorPartial

        return OperatorPartial(cls, kwargs, location=caller_location())

    # -- runtime ---------------------------------------------------------------
    def prepare_for_execution(self) -> BaseOperator:
        """A copy safe to resolve and render in place (the DAG's own task stays untouched).

        Containers in argument fields are copied; their leaves (callables, XComArgs)
        are shared, so this is cheap and never copies the DAG.
        """
        clone = copy.copy(self)
        for field in self.reference_fields():
            if hasattr(self, field):
                setattr(clone, field, _copy_containers(getattr(self, field)))
        return clone

    def expand_sources(self) -> list[dict[str, Any]]:
        """For a task of a mapped task group: the group's expand arguments (see serialization)."""
        group = self.mapped_task_group()
        if group is None:
            raise TypeError(f"task '{self.task_id}' is not mapped")
        return group.expand_sources()

    def unmap_for_index(self, map_index: int, context_or_ti: Any) -> BaseOperator:
        """A task of a mapped task group, as instance ``map_index`` runs it."""
        clone = self.prepare_for_execution()
        clone.map_index = map_index
        return clone

    def resolve_xcom_args(self, context: dict[str, Any]) -> None:
        """Replace XComArg/DagParam placeholders in arguments with their run-time values."""
        for field in self.reference_fields():
            value = getattr(self, field, None)
            if value is not None:
                setattr(self, field, resolve_references(value, context))

    def render_template(self, content: Any, context: dict[str, Any], jinja_env: Any = None) -> Any:
        """``content`` (a string, file name with a ``template_ext`` ending, or container) rendered."""
        return render_value(content, context, jinja_env or jinja_environment(self.dag), self.template_ext)

    def render_template_fields(self, context: dict[str, Any], jinja_env: Any = None) -> BaseOperator:
        """Render every field in ``template_fields`` in place; returns ``self``."""
        env = jinja_env or jinja_environment(self.dag)
        for field in self.template_fields:
            value = getattr(self, field, None)
            if value is not None:
                setattr(self, field, render_value(value, context, env, self.template_ext))
        return self

    def pre_execute(self, context: dict[str, Any]) -> None:
        """Run right before :meth:`execute` (calls the ``pre_execute`` argument, if any)."""
        if self._pre_execute_hook is not None:
            self._pre_execute_hook(context)

    def post_execute(self, context: dict[str, Any], result: Any = None) -> None:
        """Run right after a successful :meth:`execute` (calls the ``post_execute`` argument)."""
        if self._post_execute_hook is not None:
            self._post_execute_hook(context, result)

    def execute(self, context: dict[str, Any]) -> Any:
        """Do the work; the return value is pushed as the ``return_value`` XCom."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute()")

    def on_kill(self) -> None:
        """Release external resources when the runner terminates the task (optional)."""


def _copy_containers(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuple
        return type(value)(*(_copy_containers(v) for v in value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(_copy_containers(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy_containers(v) for k, v in value.items()}
    return value
