"""The run-time context: the dict given to ``execute``, callables and templates."""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tandem.sdk import macros as macros_module
from tandem.sdk.params import validate_conf

if TYPE_CHECKING:
    from tandem.sdk.abstractoperator import AbstractOperator
    from tandem.sdk.dag import DAG

VariableGetter = Callable[[str], "str | None"]
_MISSING: Any = object()


class _VariableValues:
    """``var.value.NAME`` / ``var.value.get(NAME, default)``: raw string variables."""

    def __init__(self, getter: VariableGetter, deserialize: Callable[[str], Any] | None = None) -> None:
        self._getter = getter
        self._deserialize = deserialize

    def get(self, name: str, default: Any = _MISSING) -> Any:
        raw = self._getter(name)
        if raw is None:
            if default is _MISSING:
                raise KeyError(f"variable {name!r} does not exist")
            return default
        return self._deserialize(raw) if self._deserialize else raw

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # keep copy/pickle/jinja introspection working
            raise AttributeError(name)
        return self.get(name)

    def __getitem__(self, name: str) -> Any:
        return self.get(name)


class VariableAccessor:
    """The ``var`` context entry: ``var.value`` (strings) and ``var.json`` (parsed JSON)."""

    def __init__(self, getter: VariableGetter) -> None:
        self.value = _VariableValues(getter)
        self.json = _VariableValues(getter, json.loads)


def _macros(extra: dict[str, Any] | None) -> Any:
    if not extra:
        return macros_module
    namespace = {name: getattr(macros_module, name) for name in macros_module.__all__}
    return types.SimpleNamespace(**{**namespace, **extra})


def build_context(
    *,
    dag: DAG,
    task: AbstractOperator,
    ti: Any,
    run_id: str,
    logical_date: datetime,
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    conf: dict[str, Any] | None,
    params: dict[str, Any] | None,
    variable_getter: VariableGetter,
    macros: dict[str, Any] | None = None,
    dag_run: Any = None,
) -> dict[str, Any]:
    """Build the context for one task instance try.

    ``params`` should be the run's validated params (``validate_conf`` on the
    serialized params and the run's conf); when None they are computed here from
    the DAG's and the task's params with ``conf`` merged over them.
    """
    conf = dict(conf or {})
    if params is None:
        declared = {**dag.params.serialize(), **_task_params(task)}
        params = validate_conf(declared, conf)
    ds = logical_date.strftime("%Y-%m-%d")
    return {
        "dag": dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "run_id": run_id,
        "dag_run": dag_run,
        "conf": conf,
        "params": params,
        "logical_date": logical_date,
        "data_interval_start": data_interval_start if data_interval_start is not None else logical_date,
        "data_interval_end": data_interval_end if data_interval_end is not None else logical_date,
        "ds": ds,
        "ds_nodash": ds.replace("-", ""),
        "ts": logical_date.isoformat(),
        "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": logical_date.isoformat().replace("-", "").replace(":", ""),
        "try_number": getattr(ti, "try_number", None),
        "map_index": getattr(ti, "map_index", -1),
        "var": VariableAccessor(variable_getter),
        "macros": _macros(macros),
    }


def _task_params(task: AbstractOperator) -> dict[str, Any]:
    from tandem.sdk.params import ParamsDict

    return ParamsDict(getattr(task, "params", None) or {}).serialize()
