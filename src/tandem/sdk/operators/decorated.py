"""Operator classes behind ``@task`` and its variants.

They differ from the classic operators only in how they are built (by
:mod:`tandem.sdk.decorators`, from a function call) and in ``multiple_outputs``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from tandem.sdk.callables import call_with_context
from tandem.sdk.operators.bash import BashOperator
from tandem.sdk.operators.branch import BranchPythonOperator, ShortCircuitOperator
from tandem.sdk.operators.external_python import (
    BranchExternalPythonOperator,
    BranchPythonVirtualenvOperator,
    ExternalPythonOperator,
    PythonVirtualenvOperator,
)
from tandem.sdk.operators.python import PythonOperator
from tandem.sdk.templating import jinja_environment, render_value


class DecoratedPythonOperator(PythonOperator):
    """``@task``: a PythonOperator whose dict result may be split into several XComs."""

    def __init__(self, *, multiple_outputs: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiple_outputs = multiple_outputs


class DecoratedBranchOperator(BranchPythonOperator):
    """``@task.branch``."""

    def __init__(self, *, multiple_outputs: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiple_outputs = multiple_outputs


class DecoratedShortCircuitOperator(ShortCircuitOperator):
    """``@task.short_circuit``."""

    def __init__(self, *, multiple_outputs: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiple_outputs = multiple_outputs


class DecoratedVirtualenvOperator(PythonVirtualenvOperator):
    """``@task.virtualenv``."""

    def __init__(self, *, multiple_outputs: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiple_outputs = multiple_outputs


class DecoratedExternalPythonOperator(ExternalPythonOperator):
    """``@task.external_python``."""

    def __init__(self, *, multiple_outputs: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiple_outputs = multiple_outputs


class DecoratedBranchVirtualenvOperator(BranchPythonVirtualenvOperator):
    """``@task.branch_virtualenv``."""

    def __init__(self, *, multiple_outputs: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiple_outputs = multiple_outputs


class DecoratedBranchExternalPythonOperator(BranchExternalPythonOperator):
    """``@task.branch_external_python``."""

    def __init__(self, *, multiple_outputs: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiple_outputs = multiple_outputs


class DecoratedBashOperator(BashOperator):
    """``@task.bash``: the function returns the command, which is then rendered and run."""

    template_fields: ClassVar[Sequence[str]] = ("bash_command", "env", "cwd", "op_args", "op_kwargs")

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        multiple_outputs: bool = False,
        **kwargs: Any,
    ) -> None:
        # The real command only exists once the function has run, at execute time.
        kwargs.setdefault("bash_command", "")
        super().__init__(**kwargs)
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.multiple_outputs = multiple_outputs

    def execute(self, context: dict[str, Any]) -> str | None:
        command = call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)
        if not isinstance(command, str) or not command.strip():
            raise TypeError(
                f"@task.bash '{self.task_id}' must return a non-empty command string, got {command!r}"
            )
        self.bash_command = render_value(command, context, jinja_environment(self.dag), self.template_ext)
        return super().execute(context)
