"""``@task`` and its variants (``@task.branch``, ``@task.short_circuit``, ``@task.bash``, ...).

Calling a decorated function inside a DAG creates a task and returns an
:class:`~tandem.sdk.xcom_arg.XComArg` for its result; XComArgs among the call's
arguments become upstream dependencies and are replaced by their values at run time.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tandem.sdk import dag_context
from tandem.sdk.mapped import KWARGS, MappedOperator, OperatorPartial
from tandem.sdk.operators.decorated import (
    DecoratedBashOperator,
    DecoratedBranchExternalPythonOperator,
    DecoratedBranchOperator,
    DecoratedBranchVirtualenvOperator,
    DecoratedExternalPythonOperator,
    DecoratedPythonOperator,
    DecoratedShortCircuitOperator,
    DecoratedVirtualenvOperator,
)
from tandem.sdk.sensors.python import DecoratedSensorOperator
from tandem.sdk.source import caller_location
from tandem.sdk.xcom_arg import XComArg

if TYPE_CHECKING:
    from tandem.sdk.baseoperator import BaseOperator
    from tandem.sdk.dag import DAG
    from tandem.sdk.task_group import TaskGroup


def unique_task_id(task_id: str, dag: DAG | None, group: TaskGroup | None) -> str:
    """``task_id`` or, if taken in ``dag``, ``task_id__N`` with the next free N (as Airflow)."""
    full_id = group.child_id(task_id) if group is not None else task_id
    if dag is None or full_id not in dag.task_dict:
        return task_id
    core = re.split(r"__\d+$", full_id)[0]
    pattern = re.compile(rf"^{re.escape(core)}__(\d+)$")
    suffixes = [int(m.group(1)) for t in dag.task_dict if (m := pattern.match(t))]
    label = re.split(r"__\d+$", task_id)[0]
    return f"{label}__{max(suffixes, default=0) + 1}"


def infer_multiple_outputs(function: Callable[..., Any]) -> bool:
    """True when the function is annotated to return a dict (as Airflow infers)."""
    try:
        hints = typing.get_type_hints(function)
        returns = hints.get("return")
    except Exception:  # unresolvable string annotations: fall back to the raw text
        returns = getattr(function, "__annotations__", {}).get("return")
        return isinstance(returns, str) and returns.replace("typing.", "").split("[")[0] in ("dict", "Dict")
    origin = typing.get_origin(returns) or returns
    return isinstance(origin, type) and issubclass(origin, dict)


class TaskDecorator:
    """A function turned into a task factory by ``@task``.

    Call it to create a task; use :meth:`partial`/:meth:`expand` to map it and
    :meth:`override` to change operator arguments for one use.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        operator_class: type[Any],
        kwargs: dict[str, Any],
        role: dict[str, Any] | None = None,
    ):
        if not callable(function):
            raise TypeError(f"@task must decorate a callable, got {function!r}")
        self.function = function
        self.operator_class = operator_class
        self.kwargs = kwargs
        #: {"setup": True} or {"teardown": True, "on_failure_fail_dagrun": ...} from @setup/@teardown.
        self.role = role or {}
        functools.update_wrapper(self, function)

    def _apply_role(self, result: XComArg) -> XComArg:
        if self.role.get("setup"):
            result.as_setup()
        elif self.role.get("teardown"):
            result.as_teardown(on_failure_fail_dagrun=self.role.get("on_failure_fail_dagrun"))
        return result

    def _operator_kwargs(self, dag: DAG | None, group: TaskGroup | None) -> dict[str, Any]:
        kwargs = dict(self.kwargs)
        if kwargs.get("multiple_outputs") is None:
            kwargs["multiple_outputs"] = infer_multiple_outputs(self.function)
        kwargs["task_id"] = unique_task_id(kwargs.get("task_id") or self.function.__name__, dag, group)
        kwargs["python_callable"] = self.function
        return kwargs

    def _placement(self) -> tuple[DAG | None, TaskGroup | None]:
        dag = self.kwargs.get("dag") or dag_context.current_dag()
        group = self.kwargs.get("task_group") or dag_context.current_group(dag)
        return dag, group

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        dag, group = self._placement()
        operator = self.operator_class(
            op_args=list(args), op_kwargs=kwargs, **self._operator_kwargs(dag, group)
        )
        return self._apply_role(XComArg(operator))

    def partial(self, **kwargs: Any) -> DecoratedPartial:
        """Fix some of the function's arguments for every mapped instance."""
        return DecoratedPartial(self, kwargs)

    def expand(self, **kwargs: Any) -> XComArg:
        """Create one task instance per element (cross product over several arguments)."""
        return self.partial().expand(**kwargs)

    def expand_kwargs(self, kwargs_list: Any) -> XComArg:
        """One task instance per dict of keyword arguments in ``kwargs_list``."""
        return self.partial().expand_kwargs(kwargs_list)

    def override(self, **kwargs: Any) -> TaskDecorator:
        """A copy with some operator arguments (task_id, retries, ...) replaced."""
        return TaskDecorator(self.function, self.operator_class, {**self.kwargs, **kwargs}, self.role)


class DecoratedPartial:
    """``decorated.partial(a=1)``: awaiting ``.expand(b=[...])``."""

    def __init__(self, decorator: TaskDecorator, fixed: dict[str, Any]) -> None:
        self.decorator = decorator
        self.fixed = fixed

    def expand(self, **mapped: Any) -> XComArg:
        overlap = set(mapped) & set(self.fixed)
        if overlap:
            raise TypeError(f"argument(s) {sorted(overlap)} given to both partial() and expand()")
        return self._map(mapped)

    def expand_kwargs(self, kwargs_list: Any) -> XComArg:
        return self._map({KWARGS: kwargs_list})

    def _map(self, mapped: dict[str, Any]) -> XComArg:
        dag, group = self.decorator._placement()
        kwargs = self.decorator._operator_kwargs(dag, group)
        kwargs["op_kwargs"] = dict(self.fixed)
        partial = OperatorPartial(
            self.decorator.operator_class, kwargs, location=caller_location(), expand_into="op_kwargs"
        )
        operator: MappedOperator = partial.expand(**mapped)
        return self.decorator._apply_role(XComArg(operator))


def _decorator(operator_class: type[BaseOperator]) -> Callable[..., Any]:
    def make(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        if python_callable is not None:  # bare @task
            return TaskDecorator(python_callable, operator_class, kwargs)
        return lambda function: TaskDecorator(function, operator_class, kwargs)

    return make


class _TaskFactory:
    """The ``task`` object: ``@task``, ``@task(...)``, ``@task.branch`` and friends."""

    python = staticmethod(_decorator(DecoratedPythonOperator))
    branch = staticmethod(_decorator(DecoratedBranchOperator))
    short_circuit = staticmethod(_decorator(DecoratedShortCircuitOperator))
    bash = staticmethod(_decorator(DecoratedBashOperator))
    sensor = staticmethod(_decorator(DecoratedSensorOperator))
    virtualenv = staticmethod(_decorator(DecoratedVirtualenvOperator))
    external_python = staticmethod(_decorator(DecoratedExternalPythonOperator))
    branch_virtualenv = staticmethod(_decorator(DecoratedBranchVirtualenvOperator))
    branch_external_python = staticmethod(_decorator(DecoratedBranchExternalPythonOperator))

    def __call__(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self.python(python_callable, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Airflow has more task flavours (virtualenv, docker, ...): name the missing one.
        if name.startswith("__"):
            raise AttributeError(name)
        import tandem

        raise AttributeError(f"@task.{name} is not supported by Tandem {tandem.__version__} (see docs/airflow.md)")


task = _TaskFactory()


def _as_task(function: Callable[..., Any]) -> TaskDecorator:
    return function if isinstance(function, TaskDecorator) else TaskDecorator(function, DecoratedPythonOperator, {})


def setup(function: Callable[..., Any]) -> TaskDecorator:
    """``@setup``: a ``@task`` whose calls create setup tasks."""
    decorator = _as_task(function)
    return TaskDecorator(decorator.function, decorator.operator_class, decorator.kwargs, {"setup": True})


def teardown(function: Callable[..., Any] | None = None, *, on_failure_fail_dagrun: bool = False) -> Any:
    """``@teardown`` or ``@teardown(on_failure_fail_dagrun=True)``: calls create teardown tasks."""

    def make(function: Callable[..., Any]) -> TaskDecorator:
        decorator = _as_task(function)
        role = {"teardown": True, "on_failure_fail_dagrun": on_failure_fail_dagrun}
        return TaskDecorator(decorator.function, decorator.operator_class, decorator.kwargs, role)

    return make(function) if function is not None else make
