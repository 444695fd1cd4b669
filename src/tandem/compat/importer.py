"""The ``airflow`` import hook: ``import airflow.X`` loads Tandem's shim ``tandem/compat/airflow/X``.

Why a meta-path hook and not a top-level ``airflow`` package in Tandem's distribution: a
package would clash with Apache Airflow's files when both are installed in one environment,
and which one wins would depend on install order. The hook is installed first on
``sys.meta_path`` by the code that imports DAG files (the DAG processor, the task runner,
``dags test``), so there ``airflow`` always means Tandem's shims, whether or not Apache
Airflow is installed, and Tandem never imports Apache Airflow.

Invariants:
- every ``airflow.*`` module comes from the shim folder; a name with no shim is a
  :class:`AirflowNotSupported` error naming it and the Tandem version, never a fall-through
  to another ``airflow`` on ``sys.path``;
- ``from airflow.X import name`` for a name module X lacks raises the same error (a module
  ``__getattr__`` added at load time), so unsupported names are never skipped in silence.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import tandem

ROOT = "airflow"
_SHIM_PARENT = str(Path(__file__).resolve().parent)  # holds the ``airflow`` shim folder


class AirflowNotSupported(ImportError):
    """A DAG file imports an Airflow module or name that Tandem does not provide."""

    def __init__(self, module: str, name: str | None = None) -> None:
        what = f"'{name}' from '{module}'" if name else f"module '{module}'"
        super().__init__(
            f"{what} is not supported by Tandem {tandem.__version__}'s Airflow compatibility layer "
            "(see docs/airflow.md for what is supported)",
            name=module,
        )


def _missing_name_hook(module: ModuleType) -> Any:
    """A module ``__getattr__``: submodules load on demand, anything else is unsupported."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):  # introspection (copy, pickle, inspect) expects AttributeError
            raise AttributeError(name)
        if hasattr(module, "__path__"):
            try:
                return importlib.import_module(f"{module.__name__}.{name}")
            except AirflowNotSupported:
                pass
        raise AirflowNotSupported(module.__name__, name)

    return __getattr__


class _ShimLoader(importlib.abc.Loader):
    """Runs the shim's own loader, then adds the missing-name hook."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        if "__getattr__" not in vars(module):
            module.__getattr__ = _missing_name_hook(module)  # type: ignore[method-assign]


class AirflowShimFinder(importlib.abc.MetaPathFinder):
    """Finds ``airflow`` and ``airflow.*`` in the shim folder, and only there."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != ROOT and not fullname.startswith(ROOT + "."):
            return None
        parent, _, _ = fullname.rpartition(".")
        search = [_SHIM_PARENT] if fullname == ROOT else list(getattr(sys.modules[parent], "__path__", []))
        spec = importlib.machinery.PathFinder.find_spec(fullname, search)
        if spec is None or spec.loader is None:
            raise AirflowNotSupported(fullname)
        spec.loader = _ShimLoader(spec.loader)
        return spec


def install() -> None:
    """Put the hook first on ``sys.meta_path`` (idempotent).

    An ``airflow`` imported before the hook (Apache Airflow, pulled in by some plugin) is
    dropped from ``sys.modules``, so DAG files see the shims.
    """
    if any(isinstance(finder, AirflowShimFinder) for finder in sys.meta_path):
        return
    for name in [m for m in sys.modules if m == ROOT or m.startswith(ROOT + ".")]:
        del sys.modules[name]
    sys.meta_path.insert(0, AirflowShimFinder())
