"""``@asset``: a function that produces an asset, as a one-task DAG of the same name.

``@asset(uri="s3://b/k", schedule=None) def orders(self, context, customers): ...`` defines the
asset ``orders`` and a DAG ``orders`` whose task ``orders`` runs the function and updates the
asset. Parameters other than ``self`` (the asset) and ``context`` name the task's inlet assets,
the ones defined by ``@asset`` earlier (by name), else ``Asset(name=...)``. The decorated name
is the :class:`~tandem.sdk.assets.Asset`, so other DAGs can be scheduled on it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tandem.sdk.assets import Asset
from tandem.sdk.dag import DAG
from tandem.sdk.operators.python import PythonOperator

# Assets defined with @asset, by name, so a later @asset can take them as inlets.
_DEFINED: dict[str, Asset] = {}
_SPECIAL = ("self", "context")


def _task_callable(function: Callable[..., Any], defined: Asset, inlets: dict[str, Asset]) -> Callable[..., Any]:
    def run(**context: Any) -> Any:
        wanted = inspect.signature(function).parameters
        values = {"self": defined, "context": context, **inlets}
        return function(**{name: values[name] for name in wanted if name in values})

    return run


def asset(*, schedule: Any, uri: str | None = None, name: str | None = None, group: str = "asset",
          extra: dict[str, Any] | None = None, dag_class: type[DAG] = DAG, **dag_kwargs: Any) -> Any:
    """Define an asset and the DAG that produces it (see the module doc)."""

    def decorate(function: Callable[..., Any]) -> Asset:
        asset_name = name or function.__name__
        defined = Asset(name=asset_name, uri=uri, group=group, extra=extra)
        inlets = {p: _DEFINED.get(p) or Asset(name=p) for p in inspect.signature(function).parameters
                  if p not in _SPECIAL}
        _DEFINED[asset_name] = defined
        with dag_class(asset_name, schedule=schedule, **dag_kwargs):
            PythonOperator(task_id=asset_name, python_callable=_task_callable(function, defined, inlets),
                           outlets=[defined], inlets=list(inlets.values()))
        return defined

    return decorate
