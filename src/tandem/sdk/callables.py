"""Calling user functions with the context keys they ask for.

A callable gets a context key by naming it as a parameter (``def f(ds, ti)``), or
the whole context through ``**kwargs``. Explicit ``op_kwargs`` win over context
keys; parameters already filled positionally by ``op_args`` are left alone. An ``async def``
callable is run to completion in a fresh event loop.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from typing import Any


def determine_kwargs(
    func: Callable[..., Any],
    op_args: Sequence[Any],
    op_kwargs: dict[str, Any],
    context: dict[str, Any],
) -> dict[str, Any]:
    """The keyword arguments to call ``func(*op_args, **result)`` with."""
    signature = inspect.signature(func)
    params = list(signature.parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return {**context, **op_kwargs}
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    filled_positionally = {p.name for p in positional[: len(op_args)]}
    kwargs = dict(op_kwargs)
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.POSITIONAL_ONLY):
            continue
        name = param.name
        if name in kwargs or name in filled_positionally:
            continue
        if name in context:
            kwargs[name] = context[name]
    return kwargs


def call_with_context(
    func: Callable[..., Any],
    op_args: Sequence[Any],
    op_kwargs: dict[str, Any],
    context: dict[str, Any],
) -> Any:
    result = func(*op_args, **determine_kwargs(func, op_args, op_kwargs, context))
    if inspect.iscoroutine(result):  # an ``async def`` task: run it to completion here
        return asyncio.run(result)
    return result
