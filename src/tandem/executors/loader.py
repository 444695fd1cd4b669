"""Executors by alias. Optional dependencies are imported only by the chosen implementation."""

from __future__ import annotations

import importlib

from tandem.executors.base import BaseExecutor

ALIASES = {
    "local": "tandem.executors.local:LocalExecutor",
    "sequential": "tandem.executors.sequential:SequentialExecutor",
    "stub": "tandem.executors.stub:StubExecutor",
    "celery": "tandem.executors.celery.executor:CeleryExecutor",
    "kubernetes": "tandem.executors.kubernetes.executor:KubernetesExecutor",
    "celery_kubernetes": "tandem.executors.kubernetes.routing:CeleryKubernetesExecutor",
}


class ExecutorNotFound(ValueError):
    pass


def load_executor_class(name: str) -> type[BaseExecutor]:
    path = ALIASES.get(name, name)
    if ":" not in path:
        raise ExecutorNotFound(
            f"unknown executor {name!r}: use one of {', '.join(sorted(ALIASES))} or 'package.module:Class'"
        )
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ExecutorNotFound(f"executor {name!r} cannot be loaded: {e} (is its extra installed?)") from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseExecutor)):
        raise ExecutorNotFound(f"{path} is not a BaseExecutor subclass")
    return cls
