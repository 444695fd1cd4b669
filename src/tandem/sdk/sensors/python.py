"""PythonSensor and ``@task.sensor``: a Python callable is the condition."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from tandem.sdk.callables import call_with_context
from tandem.sdk.sensors.base import BaseSensorOperator, PokeReturnValue


class PythonSensor(BaseSensorOperator):
    """Wait until ``python_callable`` returns a true value (or ``PokeReturnValue(True)``).

    :param python_callable: the condition; gets context keys it names, like PythonOperator.
    :param op_args, op_kwargs, templates_dict: as for PythonOperator (templated).
    """

    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs")

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(python_callable):
            self._fail(f"task '{self.task_id}': python_callable must be callable, got {python_callable!r}")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        context = {**context, "templates_dict": self.templates_dict}
        result = call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)
        return result if isinstance(result, PokeReturnValue) else bool(result)


class DecoratedSensorOperator(PythonSensor):
    """``@task.sensor``: the decorated function is the poke."""

    def __init__(self, *, multiple_outputs: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiple_outputs = multiple_outputs
