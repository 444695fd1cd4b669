"""``@dag``: build a DAG by calling a function.

The function's parameters become DAG params (their defaults, or the values the
function is called with); inside the body they are :class:`DagParam` references
resolved at run time.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from tandem.sdk.dag import DAG
from tandem.sdk.params import NOTSET
from tandem.sdk.xcom_arg import DagParam


def dag(dag_id: str | None = None, *, dag_class: type[DAG] = DAG,
        **dag_kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., DAG]]:
    """Decorate a function that defines tasks; calling it returns the DAG.

    Accepts every :class:`~tandem.sdk.dag.DAG` argument; ``dag_id`` defaults to
    the function name and ``doc_md`` to its docstring. ``@dag`` without
    parentheses is accepted too. ``dag_class`` is the DAG class built (a subclass of DAG).
    """
    if callable(dag_id):  # bare @dag
        return dag()(dag_id)

    def decorate(function: Callable[..., Any]) -> Callable[..., DAG]:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def factory(*args: Any, **kwargs: Any) -> DAG:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            options = dict(dag_kwargs)
            if function.__doc__ and not options.get("doc_md"):
                options["doc_md"] = inspect.cleandoc(function.__doc__)
            with dag_class(dag_id or function.__name__, **options) as dag_obj:
                references: dict[str, Any] = {}
                for name, value in bound.arguments.items():
                    if value is not NOTSET:
                        dag_obj.params[name] = value
                    references[name] = DagParam(name, getattr(value, "value", value))
                function(**references)
            return dag_obj

        return factory

    return decorate
