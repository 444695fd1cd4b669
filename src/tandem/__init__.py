"""Tandem: an Airflow-shaped workflow orchestrator.

``import tandem`` stays cheap: the authoring names below are resolved lazily on
first attribute access, so the scheduler and CLI do not pay for jinja2 or croniter
unless a DAG file is actually being parsed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it
_LAZY: dict[str, str] = {
    "DAG": "tandem.sdk.dag",
    "dag": "tandem.sdk.dag_decorator",
    "task": "tandem.sdk.decorators",
    "TaskGroup": "tandem.sdk.task_group",
    "Param": "tandem.sdk.params",
    "chain": "tandem.sdk.dependency",
    "mask_secret": "tandem.secrets_masker",
}

if TYPE_CHECKING:
    from tandem.sdk.dag import DAG
    from tandem.sdk.dag_decorator import dag
    from tandem.sdk.decorators import task
    from tandem.sdk.dependency import chain
    from tandem.sdk.params import Param
    from tandem.sdk.task_group import TaskGroup
    from tandem.secrets_masker import mask_secret


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'tandem' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # cache: later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["DAG", "Param", "TaskGroup", "__version__", "chain", "dag", "mask_secret", "task"]
