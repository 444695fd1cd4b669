"""Dynamic task mapping: ``Operator.partial(...).expand(...)``.

A :class:`MappedOperator` is one node in the DAG standing for N task instances,
N known only at run time when an expand value is an XComArg. The runner turns it
into a plain operator for one ``map_index`` with :meth:`MappedOperator.unmap_for_index`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tandem.exceptions import (
    DagDefinitionError,
    UnmappableXComLengthPushed,
    UnmappableXComTypePushed,
    XComForMappingNotPushed,
)
from tandem.sdk import dag_context
from tandem.sdk.abstractoperator import BASE_ARG_DEFAULTS, AbstractOperator
from tandem.sdk.expansion import positions_for_index, total_length
from tandem.sdk.runtime import ti_from
from tandem.sdk.source import SourceLocation
from tandem.sdk.xcom_arg import XComArg, iter_xcom_args

if TYPE_CHECKING:
    from tandem.sdk.baseoperator import BaseOperator
    from tandem.sdk.task_group import TaskGroup

_NOT_MAPPABLE = {"task_id", "dag", "task_group", "default_args"}
#: The expand argument of ``expand_kwargs``: a list of dicts, each one instance's arguments.
KWARGS = "__kwargs__"


def constructor_arg_names(operator_class: type) -> set[str]:
    """Every named constructor argument along the class's MRO."""
    names: set[str] = set()
    for klass in operator_class.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for param in inspect.signature(init).parameters.values():
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY) and param.name != "self":
                names.add(param.name)
    return names


def _ancestors(group: TaskGroup) -> list[TaskGroup]:
    chain: list[TaskGroup] = []
    current: TaskGroup | None = group
    while current is not None:
        chain.append(current)
        current = current.parent_group
    return chain


class OperatorPartial:
    """The fixed half of a mapped task; call :meth:`expand` to finish it."""

    def __init__(
        self,
        operator_class: type[BaseOperator],
        kwargs: dict[str, Any],
        *,
        location: SourceLocation,
        expand_into: str | None = None,
    ) -> None:
        if "task_id" not in kwargs:
            raise TypeError(f"{operator_class.__name__}.partial() requires task_id")
        self.operator_class = operator_class
        self.kwargs = kwargs
        self.location = location
        self.expand_into = expand_into

    def expand(self, **mapped_kwargs: Any) -> MappedOperator:
        return MappedOperator(
            self.operator_class,
            dict(self.kwargs),
            mapped_kwargs,
            expand_into=self.expand_into,
            location=self.location,
        )

    def expand_kwargs(self, kwargs_list: Any) -> MappedOperator:
        """One instance per dict of ``kwargs_list`` (a list, or an XComArg giving one)."""
        return self.expand(**{KWARGS: kwargs_list})


class MappedOperator(AbstractOperator):
    """A task expanded over lists at run time (one task instance per element).

    :param operator_class: the operator each instance is built from.
    :param partial_kwargs: constructor arguments common to all instances.
    :param expand_input: arg name -> list, dict or XComArg to map over.
    :param expand_into: None to pass mapped values as constructor arguments, or the
        name of a dict argument (``"op_kwargs"`` for ``@task``) to merge them into.
    """

    @property
    def is_mapped(self) -> bool:
        return True

    def __init__(
        self,
        operator_class: type[BaseOperator],
        partial_kwargs: dict[str, Any],
        expand_input: dict[str, Any],
        *,
        expand_into: str | None,
        location: SourceLocation,
    ) -> None:
        self.location = location
        dag = partial_kwargs.pop("dag", None) or dag_context.current_dag()
        task_group = partial_kwargs.pop("task_group", None) or dag_context.current_group(dag)
        if task_group is not None and any(g.expand_input is not None for g in _ancestors(task_group)):
            raise DagDefinitionError(
                f"task {partial_kwargs.get('task_id')!r}: mapping a task inside a mapped task group is not "
                "supported by Tandem", fileloc=location.fileloc, lineno=location.lineno)
        default_args = {
            **(dag.default_args if dag is not None else {}),
            **(task_group.inherited_default_args() if task_group is not None else {}),
            **(partial_kwargs.pop("default_args", None) or {}),
        }
        accepted = constructor_arg_names(operator_class)
        for name in accepted:
            if name not in partial_kwargs and name in default_args:
                partial_kwargs[name] = default_args[name]
        task_id = partial_kwargs.pop("task_id")
        self._init_node(
            task_id=task_id,
            dag=dag,
            task_group=task_group,
            location=location,
            base_args={k: v for k, v in partial_kwargs.items() if k in BASE_ARG_DEFAULTS},
        )
        self.operator_class = operator_class
        self.partial_kwargs = partial_kwargs
        self.expand_into = expand_into
        self.expand_input = self._check_expand_input(expand_input, accepted)
        # Class-level behaviour of the real operator, read by serialization and templating.
        self.template_fields = tuple(operator_class.template_fields)  # type: ignore[misc]
        self.template_ext = tuple(operator_class.template_ext)  # type: ignore[misc]
        self.ui_color = operator_class.ui_color  # type: ignore[misc]
        self.is_branch = operator_class.is_branch  # type: ignore[misc]
        self.is_short_circuit = operator_class.is_short_circuit  # type: ignore[misc]
        self.multiple_outputs = bool(partial_kwargs.get("multiple_outputs", False))
        self.ignore_downstream_trigger_rules = bool(
            partial_kwargs.get("ignore_downstream_trigger_rules", operator_class.is_short_circuit)
        )
        if dag is not None:
            dag.add_task(self)
        if task_group is not None:
            task_group.add(self)
        for value in [*expand_input.values(), *partial_kwargs.values()]:
            for xcom_arg in iter_xcom_args(value):
                xcom_arg.set_downstream(self)

    def _check_expand_input(self, expand_input: dict[str, Any], accepted: set[str]) -> dict[str, Any]:
        if not expand_input:
            self._fail(f"task '{self.task_id}': expand() needs at least one argument")
        if KWARGS in expand_input:
            value = expand_input[KWARGS]
            if not isinstance(value, (list, tuple, XComArg)) or (
                isinstance(value, (list, tuple)) and not all(isinstance(v, (dict, XComArg)) for v in value)
            ):
                self._fail(f"task '{self.task_id}': expand_kwargs() needs a list of dicts or an XComArg")
            return dict(expand_input)
        for name, value in expand_input.items():
            if self.expand_into is None and (name not in accepted or name in _NOT_MAPPABLE):
                self._fail(f"task '{self.task_id}': {self.operator_class.__name__} cannot map over {name!r}")
            if self.expand_into is None and name in self.partial_kwargs:
                self._fail(f"task '{self.task_id}': {name!r} is given to both partial() and expand()")
            if not isinstance(value, (list, tuple, dict, XComArg)):
                self._fail(
                    f"task '{self.task_id}': expand({name}=...) needs a list, dict or XComArg, "
                    f"got {type(value).__name__}"
                )
        return dict(expand_input)

    @property
    def operator_name(self) -> str:
        return self.operator_class.__name__

    # -- lengths ---------------------------------------------------------------
    def expand_sources(self) -> list[dict[str, Any]]:
        """Serialized description of each expand argument (see serialization)."""
        sources: list[dict[str, Any]] = []
        for arg, value in self.expand_input.items():
            if isinstance(value, XComArg):
                sources.append({"arg": arg, **value.expand_source()})
            else:
                sources.append({"arg": arg, "kind": "literal", "length": len(value)})
        return sources

    def mapped_length(self, resolved_lengths: dict[str, int] | None = None) -> int:
        """Instance count; XCom-fed args need their length in ``resolved_lengths`` (by arg)."""
        lengths = []
        for arg, value in self.expand_input.items():
            lengths.append(
                resolved_lengths[arg]
                if isinstance(value, XComArg) and resolved_lengths is not None and arg in resolved_lengths
                else self._literal_length(arg, value)
            )
        return total_length(lengths)

    def _literal_length(self, arg: str, value: Any) -> int:
        if isinstance(value, XComArg):
            raise KeyError(f"length of expand argument {arg!r} comes from an XCom and was not given")
        return len(value)

    def resolve_expand_values(self, context_or_ti: Any) -> dict[str, Sequence[Any]]:
        """Each expand argument as a sequence (dicts become lists of (key, value))."""
        ti = ti_from(context_or_ti)
        values: dict[str, Sequence[Any]] = {}
        for arg, value in self.expand_input.items():
            if isinstance(value, XComArg):
                value = value.pull(ti)
                if value is None:
                    raise ValueError(
                        f"task '{self.task_id}': XCom feeding expand argument {arg!r} is missing"
                    )
            if isinstance(value, dict):
                values[arg] = list(value.items())
            elif isinstance(value, Sequence) and not isinstance(value, str):
                values[arg] = value
            else:
                raise TypeError(
                    f"task '{self.task_id}': expand argument {arg!r} resolved to "
                    f"{type(value).__name__}, expected a list or dict"
                )
        return values

    def unmap_for_index(self, map_index: int, context_or_ti: Any) -> BaseOperator:
        """A plain operator for one mapped instance, with its element(s) filled in."""
        values = self.resolve_expand_values(context_or_ti)
        positions = positions_for_index(map_index, [len(v) for v in values.values()])
        chosen = {arg: items[pos] for (arg, items), pos in zip(values.items(), positions, strict=True)}
        if KWARGS in chosen:
            chosen = self._kwargs_element(chosen[KWARGS], context_or_ti)
        kwargs = dict(self.partial_kwargs)
        if self.expand_into is None:
            kwargs.update(chosen)
        else:
            kwargs[self.expand_into] = {**(kwargs.get(self.expand_into) or {}), **chosen}
        with dag_context.detached():
            operator = self.operator_class(task_id=self.task_id, **kwargs)
        operator.dag = self.dag
        operator.task_group = self.task_group
        operator.upstream_task_ids = set(self.upstream_task_ids)
        operator.downstream_task_ids = set(self.downstream_task_ids)
        operator.location = self.location
        operator.map_index = map_index
        return operator

    def _kwargs_element(self, element: Any, context_or_ti: Any) -> dict[str, Any]:
        if isinstance(element, XComArg):
            element = element.pull(ti_from(context_or_ti))
        if not isinstance(element, dict) or not all(isinstance(k, str) for k in element):
            raise TypeError(f"task '{self.task_id}': expand_kwargs() element {element!r} is not a dict of arguments")
        return element

    def xcoms_to_push(self, result: Any) -> dict[str, Any]:
        raise TypeError("call xcoms_to_push on the operator returned by unmap_for_index()")


def check_output_for_mapping(dag: Any, task: Any, map_index: int, result: Any, max_length: int) -> None:
    """Fail, as Airflow does, the try of a task whose return value a mapped task maps over when
    that value cannot be mapped: nothing returned, not a list or dict, or more than
    ``max_length`` items (``core.max_map_length``). A mapped instance's own value is not checked.

    Only the task's direct downstream tasks are looked at: a mapped task is made downstream of
    every XCom it maps over (``MappedOperator.__init__``), so a try costs the same in any width."""
    if map_index >= 0:
        return
    consumers = (dag.get_task(t) for t in dag.get_task(task.task_id).downstream_task_ids)
    if not any(_maps_over(source, task.task_id)
               for t in consumers if t.is_mapped for source in t.expand_sources()):
        return
    value = result if task.do_xcom_push else None
    if value is None:
        raise XComForMappingNotPushed()
    if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence | dict):
        raise UnmappableXComTypePushed(value)
    if len(value) > max_length:
        raise UnmappableXComLengthPushed(len(value), max_length)


def _maps_over(source: dict[str, Any], task_id: str) -> bool:
    if source["kind"] == "zip":
        return any(_maps_over(s, task_id) for s in source["sources"])
    return source["kind"] == "xcom" and source["task_id"] == task_id and source["key"] == "return_value"
