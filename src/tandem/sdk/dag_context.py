"""Context-local state used while a DAG file is being executed.

``with DAG(...)`` and ``with TaskGroup(...)`` push onto these stacks so operators
created inside attach themselves; :class:`~tandem.sdk.dag.DagCollector` records the
DAGs created while a file is imported. ContextVars keep concurrent parses (threads,
asyncio) apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tandem.sdk.dag import DAG
    from tandem.sdk.task_group import TaskGroup

_dag_stack: ContextVar[tuple[DAG, ...]] = ContextVar("tandem_dag_stack", default=())
_group_stack: ContextVar[tuple[TaskGroup, ...]] = ContextVar("tandem_group_stack", default=())
_collectors: ContextVar[tuple[list[DAG], ...]] = ContextVar("tandem_collectors", default=())
# While the runner builds an unmapped copy of a mapped task, the copy must not
# register itself in the DAG nor add dependency edges.
_detached: ContextVar[bool] = ContextVar("tandem_detached", default=False)


def push_dag(dag: DAG) -> None:
    _dag_stack.set((*_dag_stack.get(), dag))


def pop_dag() -> None:
    _dag_stack.set(_dag_stack.get()[:-1])


def current_dag() -> DAG | None:
    stack = _dag_stack.get()
    return stack[-1] if stack else None


def push_group(group: TaskGroup) -> None:
    _group_stack.set((*_group_stack.get(), group))


def pop_group() -> None:
    _group_stack.set(_group_stack.get()[:-1])


def current_group(dag: DAG | None) -> TaskGroup | None:
    """The innermost open TaskGroup belonging to ``dag``, else the DAG's root group."""
    for group in reversed(_group_stack.get()):
        if group.dag is dag:
            return group
    return dag.task_group if dag is not None else None


def record_created_dag(dag: DAG) -> None:
    for collected in _collectors.get():
        if not any(existing is dag for existing in collected):
            collected.append(dag)


@contextmanager
def collecting(target: list[DAG]) -> Iterator[list[DAG]]:
    token = _collectors.set((*_collectors.get(), target))
    try:
        yield target
    finally:
        _collectors.reset(token)


def active_collection() -> list[DAG] | None:
    collectors = _collectors.get()
    return collectors[-1] if collectors else None


def is_detached() -> bool:
    return _detached.get()


@contextmanager
def detached() -> Iterator[None]:
    """Build operators that are not registered anywhere (and ignore open DAG contexts)."""
    tokens = (_detached.set(True), _dag_stack.set(()), _group_stack.set(()))
    try:
        yield
    finally:
        _group_stack.reset(tokens[2])
        _dag_stack.reset(tokens[1])
        _detached.reset(tokens[0])
