"""``@task_group``: a function whose body builds the tasks of a TaskGroup.

Each call creates one group (``group_id``, then ``group_id__1``, ... as in Airflow) and runs
the function inside it. The call returns what the function returns (so ``a >> group(x) >> b``
binds to the task it returns), or the group itself when the function returns nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from tandem.sdk.task_group import TaskGroup


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

    def expand(self, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"task group '{self.function.__name__}': mapping a task group (expand) is not supported by Tandem"
        )

    expand_kwargs = expand

    def partial(self, **kwargs: Any) -> Any:
        return self.expand()


def task_group(group_id: Any = None, **group_kwargs: Any) -> Any:
    """``@task_group``, ``@task_group()`` or ``@task_group(group_id="g", tooltip=..., ...)``."""
    if callable(group_id):
        return TaskGroupDecorator(group_id, {})
    return lambda function: TaskGroupDecorator(function, {"group_id": group_id, **group_kwargs})
