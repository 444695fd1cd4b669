"""Run-time references passed between tasks at authoring time.

An :class:`XComArg` stands for "the value task X pushes under key K". Passing one
into another task's arguments both adds the dependency edge (at parse time) and
is replaced by the pulled value (at run time, by :func:`resolve_references`).
:class:`DagParam` does the same for a DAG param inside ``@dag`` functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tandem.sdk.dependency import DependencyMixin

if TYPE_CHECKING:
    from tandem.sdk.abstractoperator import AbstractOperator

RETURN_VALUE = "return_value"


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
        return context["ti"].xcom_pull(task_ids=self.operator.task_id, key=self.key)


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
