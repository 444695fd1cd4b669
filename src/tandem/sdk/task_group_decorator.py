"""``@task_group``: a function whose body builds the tasks of a TaskGroup.

Each call creates one group (``group_id``, then ``group_id__1``, ... as in Airflow) and runs
the function inside it. The call returns what the function returns (so ``a >> group(x) >> b``
binds to the task it returns), or the group itself when the function returns nothing.
``group.expand(x=[...])`` makes a mapped task group: every task in it runs once per element,
instance i of a task reading instance i of its upstream in the group.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from tandem.sdk.expansion import positions_for_index
from tandem.sdk.task_group import TaskGroup
from tandem.sdk.xcom_arg import Reference


class TaskGroupDecorator:
    """The decorated function; call it to create a group, ``override`` to change its arguments."""

    def __init__(self, function: Callable[..., Any], group_kwargs: dict[str, Any]) -> None:
        self.function = function
        self.group_kwargs = group_kwargs
        functools.update_wrapper(self, function)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        group_kwargs = dict(self.group_kwargs)
        label = group_kwargs.pop("group_id", None) or self.function.__name__
        if not group_kwargs.get("tooltip") and self.function.__doc__:
            group_kwargs["tooltip"] = self.function.__doc__.strip()
        group_kwargs.setdefault("add_suffix_on_collision", True)
        group = TaskGroup(label, **group_kwargs)
        with group:
            result = self.function(*args, **kwargs)
        return group if result is None else result

    def override(self, **kwargs: Any) -> TaskGroupDecorator:
        return TaskGroupDecorator(self.function, {**self.group_kwargs, **kwargs})

    def expand(self, **mapped: Any) -> Any:
        """One run of the group's tasks per element (cross product over several arguments)."""
        return self.partial().expand(**mapped)

    def partial(self, **fixed: Any) -> MappedGroupPartial:
        return MappedGroupPartial(self, fixed)

    def expand_kwargs(self, kwargs_list: Any) -> Any:
        raise NotImplementedError(
            f"task group '{self.function.__name__}': expand_kwargs on a task group is not supported by Tandem"
        )


class MappedGroupPartial:
    """``group.partial(a=1)``, awaiting ``.expand(b=[...])``."""

    def __init__(self, decorator: TaskGroupDecorator, fixed: dict[str, Any]) -> None:
        self.decorator = decorator
        self.fixed = fixed

    def expand(self, **mapped: Any) -> Any:
        from tandem.sdk.xcom_arg import XComArg

        if not mapped:
            raise TypeError(f"task group '{self.decorator.function.__name__}': expand() needs an argument")
        for name, value in mapped.items():
            if not isinstance(value, (list, tuple, dict, XComArg)):
                raise TypeError(f"task group expand({name}=...) needs a list, dict or XComArg, "
                                f"got {type(value).__name__}")
        group_kwargs = dict(self.decorator.group_kwargs)
        label = group_kwargs.pop("group_id", None) or self.decorator.function.__name__
        group_kwargs.setdefault("add_suffix_on_collision", True)
        group = TaskGroup(label, **group_kwargs)
        group.expand_input = dict(mapped)
        arguments = {**self.fixed, **{name: MappedArgument(group, name) for name in mapped}}
        with group:
            result = self.decorator.function(**arguments)
        for value in mapped.values():
            if isinstance(value, XComArg):
                value.set_downstream(group)
        return group if result is None else result


class MappedArgument(Reference):
    """One expand argument of a mapped task group: its element for the running instance."""

    def __init__(self, group: TaskGroup, name: str) -> None:
        self.group = group
        self.name = name

    def resolve(self, context: dict[str, Any]) -> Any:
        from tandem.sdk.xcom_arg import XComArg

        ti = context["ti"]
        values: dict[str, list[Any]] = {}
        for arg, value in (self.group.expand_input or {}).items():
            if isinstance(value, XComArg):
                value = value.pull(ti)
            values[arg] = list(value.items()) if isinstance(value, dict) else list(value)
        positions = positions_for_index(ti.map_index, [len(v) for v in values.values()])
        position = dict(zip(values, positions, strict=True))[self.name]
        return values[self.name][position]

    def __repr__(self) -> str:
        return f"MappedArgument({self.group.group_id!r}, {self.name!r})"


def task_group(group_id: Any = None, **group_kwargs: Any) -> Any:
    """``@task_group``, ``@task_group()`` or ``@task_group(group_id="g", tooltip=..., ...)``."""
    if callable(group_id):
        return TaskGroupDecorator(group_id, {})
    return lambda function: TaskGroupDecorator(function, {"group_id": group_id, **group_kwargs})
