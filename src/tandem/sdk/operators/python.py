"""PythonOperator: run a Python callable."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from tandem.sdk.assets import Metadata
from tandem.sdk.baseoperator import BaseOperator
from tandem.sdk.callables import call_with_context


class PythonOperator(BaseOperator):
    """Call ``python_callable(*op_args, **op_kwargs)``; its return value is the XCom.

    The callable receives context keys it names as parameters (or all of them via
    ``**kwargs``); ``op_kwargs`` take precedence over context keys.

    :param python_callable: the function to run.
    :param op_args, op_kwargs: arguments (templated; may contain XComArgs).
    :param templates_dict: a templated dict made available as ``templates_dict`` in the context.
    :param templates_exts: file endings that make a ``templates_dict`` value a template file.
    """

    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs")
    ui_color = "#ffefeb"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: list[str] | None = None,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if templates_exts is not None:  # files with these endings in templates_dict are templates
            self.template_ext = tuple(templates_exts)  # type: ignore[misc]
        self.show_return_value_in_logs = show_return_value_in_logs
        if not callable(python_callable):
            self._fail(f"task '{self.task_id}': python_callable must be callable, got {python_callable!r}")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict

    def execute(self, context: dict[str, Any]) -> Any:
        context = {**context, "templates_dict": self.templates_dict}
        return self.execute_callable(context)

    def execute_callable(self, context: dict[str, Any]) -> Any:
        result = call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)
        if inspect.isgenerator(result):  # Airflow's way to attach Metadata to outlet assets
            for item in result:
                if not isinstance(item, Metadata):
                    raise TypeError(f"task '{self.task_id}' yielded {item!r}; only Metadata may be yielded")
                context["outlet_events"][item.asset].extra.update(item.extra)
            return None
        return result
