"""The run-time context: the dict given to ``execute``, callables and templates."""

from __future__ import annotations

import contextlib
import json
import types
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tandem.sdk import macros as macros_module
from tandem.sdk import secrets
from tandem.sdk.assets import AssetEvents, OutletEvents
from tandem.sdk.params import validate_conf

if TYPE_CHECKING:
    from tandem.sdk.abstractoperator import AbstractOperator
    from tandem.sdk.dag import DAG

#: The type of the context dict (Airflow's ``Context``), for annotations in DAG files.
Context = dict[str, Any]
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


class ConnectionAccessor:
    """The ``conn`` context entry: ``conn.my_id.host`` / ``conn.get("my_id")``."""

    def get(self, conn_id: str, default: Any = None) -> Any:
        from tandem.exceptions import NotFound
        from tandem.sdk.connection import Connection

        try:
            return Connection.get(conn_id)
        except NotFound:
            return default

    def __getattr__(self, conn_id: str) -> Any:
        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        from tandem.sdk.connection import Connection

        return Connection.get(conn_id)


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
    variable_getter: VariableGetter | None = None,
    macros: dict[str, Any] | None = None,
    dag_run: Any = None,
    triggering_asset_events: AssetEvents | None = None,
    inlet_events: AssetEvents | None = None,
    previous_success: Any = None,
) -> dict[str, Any]:
    """Build the context for one task instance try.

    ``variable_getter`` defaults to :func:`tandem.sdk.secrets.get_variable` (the environment,
    then the installed backend). ``params`` should be the run's validated params (``validate_conf`` on the
    serialized params and the run's conf); when None they are computed here from
    the DAG's and the task's params with ``conf`` merged over them. ``previous_success`` is the
    DAG's last successful run before this one (with ``data_interval_start/end``, ``start_date``,
    ``end_date``), for the ``prev_*_success`` entries.
    """
    conf = dict(conf or {})
    if params is None:
        declared = {**dag.params.serialize(), **_task_params(task)}
        params = validate_conf(declared, conf)
    logical_date = as_pendulum(logical_date)
    ds = logical_date.strftime("%Y-%m-%d")
    map_index = getattr(ti, "map_index", -1)
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
        "data_interval_start": as_pendulum(data_interval_start) if data_interval_start is not None else logical_date,
        "data_interval_end": as_pendulum(data_interval_end) if data_interval_end is not None else logical_date,
        "ds": ds,
        "ds_nodash": ds.replace("-", ""),
        "ts": logical_date.isoformat(),
        "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": logical_date.isoformat().replace("-", "").replace(":", ""),
        "try_number": getattr(ti, "try_number", None),
        "map_index": map_index,
        "task_instance_key_str": f"{dag.dag_id}__{task.task_id}__{ds.replace('-', '')}",
        "var": VariableAccessor(variable_getter or secrets.get_variable),
        "conn": ConnectionAccessor(),
        "macros": _macros(macros),
        "inlets": list(getattr(task, "inlets", [])),
        "outlets": list(getattr(task, "outlets", [])),
        "outlet_events": OutletEvents(),
        "triggering_asset_events": triggering_asset_events or AssetEvents(),
        "inlet_events": inlet_events or AssetEvents(),
        "expanded_ti_count": None,
        "test_mode": False,
        **{f"prev_{name}_success": _pendulum_or_none(getattr(previous_success, name, None))
           for name in ("data_interval_start", "data_interval_end", "start_date", "end_date")},
    }


def _pendulum_or_none(value: datetime | None) -> datetime | None:
    return as_pendulum(value) if value is not None else None


def as_pendulum(value: datetime) -> datetime:
    """``value`` as a pendulum DateTime, which Airflow DAG code expects (``.add()``, ``.format()``)."""
    import pendulum

    return pendulum.instance(value)


def _task_params(task: AbstractOperator) -> dict[str, Any]:
    from tandem.sdk.params import ParamsDict

    return ParamsDict(getattr(task, "params", None) or {}).serialize()


_active: list[dict[str, Any]] = []


@contextlib.contextmanager
def current_context(context: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Make ``context`` what :func:`get_current_context` returns while a task executes."""
    _active.append(context)
    try:
        yield context
    finally:
        _active.pop()


def get_current_context() -> dict[str, Any]:
    """The context of the task executing in this process (Airflow's ``get_current_context``)."""
    if not _active:
        raise RuntimeError("get_current_context() was called outside a running task")
    return _active[-1]
