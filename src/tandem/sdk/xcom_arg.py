"""Run-time references passed between tasks at authoring time.

An :class:`XComArg` stands for "the value task X pushes under key K". Passing one
into another task's arguments both adds the dependency edge (at parse time) and
is replaced by the pulled value (at run time, by :func:`resolve_references`).
:class:`DagParam` does the same for a DAG param inside ``@dag`` functions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Self, overload

from tandem.sdk.dependency import DependencyMixin

if TYPE_CHECKING:
    from tandem.sdk.abstractoperator import AbstractOperator

RETURN_VALUE = "return_value"
_NO_FILL: Any = object()


class Reference:
    """Something replaced by a concrete value from the run-time context."""

    def resolve(self, context: dict[str, Any]) -> Any:
        raise NotImplementedError


class XComArg(Reference, DependencyMixin):
    """A reference to an XCom of ``operator`` (``key`` defaults to the return value).

    ``xcom_arg["name"]`` gives the reference to one key of a ``multiple_outputs`` task.
    """

    def __init__(self, operator: AbstractOperator, key: str = RETURN_VALUE) -> None:
        self.operator = operator
        self.key = key

    def __getitem__(self, key: str) -> XComArg:
        if not isinstance(key, str):
            raise TypeError(f"XComArg keys are strings, got {key!r}")
        return XComArg(self.operator, key)

    def __iter__(self) -> Iterator[Any]:
        # Without this, Python would "iterate" by calling __getitem__(0), (1), ... forever.
        raise TypeError("an XComArg is resolved at run time and cannot be iterated while defining a DAG")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, XComArg) and other.operator is self.operator and other.key == self.key

    def __hash__(self) -> int:
        return hash((id(self.operator), self.key))

    def __repr__(self) -> str:
        return f"XComArg({self.operator.task_id!r}, key={self.key!r})"

    def dependency_roots(self) -> list[AbstractOperator]:
        return [self.operator]

    def dependency_leaves(self) -> list[AbstractOperator]:
        return [self.operator]

    def resolve(self, context: dict[str, Any]) -> Any:
        ti, consumer = context["ti"], context.get("task")
        group = self.operator.mapped_task_group()
        if group is not None and consumer is not None and consumer.mapped_task_group() is group:
            # Within one mapped task group, instance i reads instance i of its upstream.
            return ti.xcom_pull(task_ids=self.operator.task_id, key=self.key, map_indexes=ti.map_index)
        value = self.pull(ti)
        return list(value) if isinstance(value, LazyMapped) else value

    def pull(self, ti: Any) -> Any:
        """The value from the running task instance ``ti`` (a mapped upstream gives a list)."""
        return ti.xcom_pull(task_ids=self.operator.task_id, key=self.key)

    def expand_source(self) -> dict[str, Any]:
        """How the scheduler learns the length of this value when a task is mapped over it."""
        return {"kind": "xcom", "task_id": self.operator.task_id, "key": self.key}

    def pulled(self) -> list[tuple[str, str]]:
        """The (task_id, key) XComs that resolving this reference reads."""
        return [(self.operator.task_id, self.key)]

    def map(self, function: Callable[[Any], Any]) -> XComArg:
        """Each element passed through ``function`` (applied lazily, per mapped instance)."""
        return MapXComArg(self, [function])

    def zip(self, *others: XComArg, fillvalue: Any = _NO_FILL) -> XComArg:
        """Tuples of the elements of this and ``others``: the shortest wins unless ``fillvalue``."""
        return ZipXComArg([self, *others], fillvalue)

    # -- setup/teardown on the task behind a ``@task`` call ----------------------
    def as_setup(self) -> XComArg:
        self.operator.as_setup()
        return self

    def as_teardown(self, *, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> XComArg:
        self.operator.as_teardown(setups=setups, on_failure_fail_dagrun=on_failure_fail_dagrun)
        return self

    def __enter__(self) -> Self:
        self.operator.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.operator.__exit__(*exc)


class LazyMapped(Sequence[Any]):
    """``values`` with ``functions`` applied on access, so one mapped instance computes one element."""

    def __init__(self, values: Sequence[Any], functions: list[Callable[[Any], Any]]) -> None:
        self.values = values
        self.functions = functions

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        value = self.values[index]
        for function in self.functions:
            value = function(value)
        return value


class MapXComArg(XComArg):
    """``xcom_arg.map(f)``: the same XCom, each element transformed by ``f``."""

    def __init__(self, base: XComArg, functions: list[Callable[[Any], Any]]) -> None:
        super().__init__(base.operator, base.key)
        self.base = base
        self.functions = functions

    def pull(self, ti: Any) -> Any:
        values = self.base.pull(ti)
        if isinstance(values, dict):
            values = list(values.items())
        if not isinstance(values, Sequence) or isinstance(values, str):
            raise TypeError(f"map() needs a list or dict from '{self.operator.task_id}', got {values!r}")
        return LazyMapped(values, self.functions)

    def expand_source(self) -> dict[str, Any]:
        return self.base.expand_source()

    def pulled(self) -> list[tuple[str, str]]:
        return self.base.pulled()

    def map(self, function: Callable[[Any], Any]) -> XComArg:
        return MapXComArg(self.base, [*self.functions, function])

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{self.base!r}.map(...)"


class ZipXComArg(XComArg):
    """``a.zip(b, ...)``: tuples of their elements."""

    def __init__(self, args: list[XComArg], fillvalue: Any) -> None:
        super().__init__(args[0].operator, args[0].key)
        self.args = args
        self.fillvalue = fillvalue

    def dependency_roots(self) -> list[AbstractOperator]:
        return [a.operator for a in self.args]

    def dependency_leaves(self) -> list[AbstractOperator]:
        return [a.operator for a in self.args]

    def pull(self, ti: Any) -> Any:
        values = [a.pull(ti) for a in self.args]
        if self.fillvalue is _NO_FILL:
            return list(zip(*values, strict=False))
        return list(itertools.zip_longest(*values, fillvalue=self.fillvalue))

    def pulled(self) -> list[tuple[str, str]]:
        return [p for a in self.args for p in a.pulled()]

    def expand_source(self) -> dict[str, Any]:
        return {"kind": "zip", "sources": [a.expand_source() for a in self.args],
                "longest": self.fillvalue is not _NO_FILL}

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"zip({', '.join(map(repr, self.args))})"


class DagParam(Reference):
    """A DAG param handed to a ``@dag`` function's body; resolves to ``params[name]``."""

    def __init__(self, name: str, default: Any = None) -> None:
        self.name = name
        self.default = default

    def resolve(self, context: dict[str, Any]) -> Any:
        return context.get("params", {}).get(self.name, self.default)

    def __repr__(self) -> str:
        return f"DagParam({self.name!r})"


def iter_xcom_args(value: Any) -> Iterator[XComArg]:
    """Yield every XComArg nested in lists, tuples, sets and dict values."""
    if isinstance(value, XComArg):
        yield value
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from iter_xcom_args(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_xcom_args(item)


def resolve_references(value: Any, context: dict[str, Any]) -> Any:
    """Return ``value`` with every nested :class:`Reference` replaced by its run-time value."""
    if isinstance(value, Reference):
        return value.resolve(context)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuple
        return type(value)(*(resolve_references(item, context) for item in value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(resolve_references(item, context) for item in value)
    if isinstance(value, dict):
        return {key: resolve_references(item, context) for key, item in value.items()}
    return value
