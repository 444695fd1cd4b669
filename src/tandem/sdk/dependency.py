"""The ``>>`` / ``<<`` dependency operators and :func:`chain`.

Anything that can sit on either side of ``>>`` (operators, mapped operators,
XComArgs, task groups) implements :class:`DependencyMixin` by saying which
operators act as its *roots* (receiving upstream edges) and *leaves* (giving
downstream edges).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from tandem.sdk.abstractoperator import AbstractOperator

DependencyTarget = Union["DependencyMixin", Sequence["DependencyMixin"]]


class DependencyMixin:
    """Mixin providing ``>>``, ``<<``, ``set_upstream`` and ``set_downstream``."""

    def dependency_roots(self) -> list[AbstractOperator]:
        """Operators that become downstream when something is set upstream of this."""
        raise NotImplementedError

    def dependency_leaves(self) -> list[AbstractOperator]:
        """Operators that become upstream when something is set downstream of this."""
        raise NotImplementedError

    def set_downstream(self, other: DependencyTarget) -> None:
        for target in _flatten(other):
            if isinstance(target, EdgeModifier):
                target.upstream_nodes.append(self)
                continue
            for leaf in self.dependency_leaves():
                for root in target.dependency_roots():
                    leaf.add_edge_to(root)

    def set_upstream(self, other: DependencyTarget) -> None:
        for target in _flatten(other):
            target.set_downstream(self)

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    # ``[a, b] >> c`` calls c.__rrshift__([a, b]).
    def __rrshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return self


class EdgeModifier(DependencyMixin):
    """A label on the edges through it: ``a >> Label("on error") >> b`` is ``a >> b``.

    Tandem keeps no edge labels; the modifier only forwards the dependency.
    """

    def __init__(self, label: str | None = None) -> None:
        self.label = label
        self.upstream_nodes: list[DependencyMixin] = []

    def dependency_roots(self) -> list[AbstractOperator]:
        return []

    def dependency_leaves(self) -> list[AbstractOperator]:
        return [leaf for node in self.upstream_nodes for leaf in node.dependency_leaves()]


def Label(label: str) -> EdgeModifier:  # Airflow's spelling
    """An edge label (see :class:`EdgeModifier`)."""
    return EdgeModifier(label)


def _flatten(other: Any) -> list[DependencyMixin]:
    if isinstance(other, DependencyMixin):
        return [other]
    if isinstance(other, (list, tuple, set, frozenset)):
        items = list(other)
        for item in items:
            if not isinstance(item, DependencyMixin):
                raise TypeError(f"cannot set a dependency on {type(item).__name__}: {item!r}")
        return items
    raise TypeError(f"cannot set a dependency on {type(other).__name__}: {other!r}")


def chain(*elements: DependencyMixin | Sequence[DependencyMixin]) -> None:
    """Chain tasks in order: ``chain(a, [b, c], d)`` is ``a >> [b, c] >> d``.

    Two adjacent lists must have the same length and are linked pair-wise
    (``chain([a, b], [c, d])`` gives ``a >> c`` and ``b >> d``), as in Airflow.
    """
    for up, down in zip(elements, elements[1:], strict=False):
        up_is_list = not isinstance(up, DependencyMixin)
        down_is_list = not isinstance(down, DependencyMixin)
        if up_is_list and down_is_list:
            ups, downs = _flatten(up), _flatten(down)
            if len(ups) != len(downs):
                raise ValueError(
                    f"chain() got adjacent lists of different lengths ({len(ups)} and {len(downs)})"
                )
            for left, right in zip(ups, downs, strict=True):
                left.set_downstream(right)
        elif up_is_list:
            for left in _flatten(up):
                left.set_downstream(down)
        else:
            up.set_downstream(down)  # type: ignore[union-attr]


def cross_downstream(from_tasks: Sequence[DependencyMixin], to_tasks: DependencyTarget) -> None:
    """Every task of ``from_tasks`` upstream of every task of ``to_tasks``."""
    for task in from_tasks:
        task.set_downstream(to_tasks)


def chain_linear(*elements: DependencyMixin | Sequence[DependencyMixin]) -> None:
    """Like :func:`chain`, but each list is fully connected to the next (any lengths)."""
    if len(elements) < 2:
        raise ValueError("chain_linear() needs at least two elements")
    for up, down in itertools.pairwise(elements):
        for left in _flatten(up):
            left.set_downstream(down)


def unique(items: Iterable[Any]) -> list[Any]:
    """Deduplicate by identity, keeping order."""
    seen: set[int] = set()
    out = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out
