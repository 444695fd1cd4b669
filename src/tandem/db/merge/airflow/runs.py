"""Airflow DAG runs, task instances and their tries, as Tandem rows.

Tries: Airflow keeps the current try on ``task_instance`` and earlier ones in
``task_instance_history`` (3.x, 2.10+) or, before that, only failures in ``task_fail``
(numbered here in the order they were written).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tandem.db.merge import rows
from tandem.db.merge.airflow.convert import load, selectable, utc
from tandem.db.merge.airflow.notes import Notes
from tandem.db.merge.airflow.schema import AirflowSchema
from tandem.db.merge.airflow.states import FALLBACK_TI_STATE, RUN_STATES, RUN_TYPES, TI_STATES
from tandem.db.merge.airflow.values import Unconvertible
from tandem.models.base import ID_LEN
from tandem.state import TaskInstanceState

RunKey = tuple[str, str]
TiKey = tuple[str, str, str, int]
# A try that has not started yet (Airflow 3 counts a try when it schedules it) has no try row.
NOT_STARTED = {TaskInstanceState.NONE, TaskInstanceState.SCHEDULED, TaskInstanceState.QUEUED}


def _ti_key(row: dict[str, Any]) -> TiKey:
    return row["dag_id"], row["run_id"], row["task_id"], row["map_index"]


def _ti_label(key: TiKey) -> str:
    dag_id, run_id, task_id, map_index = key
    return f"{dag_id} / {run_id} / {task_id}" + (f" [{map_index}]" if map_index >= 0 else "")


def _too_long(notes: Notes, table: str, label: str, values: dict[str, str]) -> bool:
    for name, value in values.items():
        if len(value) > ID_LEN:
            notes.add(table, label, f"{name} is {len(value)} characters, Tandem allows {ID_LEN}", "not imported")
            return True
    return False


def _conf(notes: Notes, label: str, raw: Any) -> dict[str, Any]:
    try:
        conf = load(raw)
    except Unconvertible as e:
        notes.add("dag_run", label, f"conf cannot be read: {e}", "imported with an empty conf")
        return {}
    if conf is None:
        return {}
    if not isinstance(conf, dict):
        notes.add("dag_run", label, f"conf is a {type(conf).__name__}, not a mapping", "imported with an empty conf")
        return {}
    return conf


def read_runs(conn: sa.Connection, schema: AirflowSchema, notes: Notes) -> Iterator[dict[str, Any]]:
    """Tandem ``dag_run`` rows, oldest first; runs that cannot be imported are noted and left out."""
    table = schema.tables["dag_run"]
    date_column = "logical_date" if "logical_date" in table.c else "execution_date"
    used: set[tuple[str, datetime]] = set()
    for row in rows.streamed(conn, selectable(table, "conf").order_by(table.c.id)):
        label = f"{row['dag_id']} / {row['run_id']}"
        if _too_long(notes, "dag_run", label, {"dag_id": row["dag_id"], "run_id": row["run_id"]}):
            continue
        state = RUN_STATES.get(row["state"])
        if state is None:
            notes.add("dag_run", label, f"Airflow run state {row['state']!r} has no Tandem equivalent",
                      "not imported, nor its task instances")
            continue
        run_after = utc(row.get("run_after")) or utc(row["data_interval_end"]) or utc(row[date_column])
        logical_date = utc(row[date_column])
        if logical_date is None:
            # Airflow 3 runs may have no logical date; Tandem keys runs by one.
            logical_date = run_after
        assert logical_date is not None and run_after is not None
        if (row["dag_id"], logical_date) in used:
            moved = logical_date
            while (row["dag_id"], moved) in used:
                moved += timedelta(microseconds=1)
            notes.add("dag_run", label, f"logical date {logical_date.isoformat()} is another run's",
                      f"imported with logical_date {moved.isoformat()}")
            logical_date = moved
        used.add((row["dag_id"], logical_date))
        run_type = RUN_TYPES.get(row["run_type"], row["run_type"])
        if row["run_type"] not in RUN_TYPES:
            notes.add("dag_run", label, f"run type {row['run_type']!r} is unknown to Tandem", "imported as is")
        yield {
            "dag_id": row["dag_id"], "run_id": row["run_id"], "logical_date": logical_date,
            "data_interval_start": utc(row["data_interval_start"]), "data_interval_end": utc(row["data_interval_end"]),
            "run_after": run_after, "run_type": run_type, "state": state.value,
            "queued_at": utc(row["queued_at"]), "start_date": utc(row["start_date"]), "end_date": utc(row["end_date"]),
            "conf": _conf(notes, label, row["conf"]), "dag_hash": None,
            "triggered_by": (row.get("triggered_by") or "airflow").lower(),
            "last_scheduling_decision": utc(row["last_scheduling_decision"]), "updated_at": utc(row["updated_at"]),
        }


def _ti_state(notes: Notes, table: str, label: str, state: str | None) -> TaskInstanceState:
    mapped = TI_STATES.get(state)
    if mapped is None:
        notes.add(table, label, f"Airflow state {state!r} has no Tandem equivalent",
                  f"imported as {FALLBACK_TI_STATE.value!r}")
        return FALLBACK_TI_STATE
    return mapped


def read_task_instances(conn: sa.Connection, schema: AirflowSchema, runs: set[RunKey],
                        notes: Notes) -> Iterator[dict[str, Any]]:
    """Tandem ``task_instance`` rows of the imported runs."""
    table = schema.tables["task_instance"]
    for row in rows.streamed(conn, sa.select(table)):
        key = _ti_key(row)
        if (row["dag_id"], row["run_id"]) not in runs or _too_long(notes, "task_instance", _ti_label(key),
                                                                   {"task_id": row["task_id"]}):
            continue
        state = _ti_state(notes, "task_instance", _ti_label(key), row["state"])
        yield {
            "dag_id": row["dag_id"], "run_id": row["run_id"], "task_id": row["task_id"],
            "map_index": row["map_index"], "state": state.value, "try_number": row["try_number"] or 0,
            "max_tries": row["max_tries"] or 0, "operator": (row["operator"] or "")[:100],
            "pool": row["pool"], "pool_slots": row["pool_slots"], "queue": row["queue"] or "default",
            "priority_weight": row["priority_weight"] or 1, "scheduled_at": utc(row.get("scheduled_dttm")),
            "queued_at": utc(row["queued_dttm"]), "start_date": utc(row["start_date"]),
            "end_date": utc(row["end_date"]), "duration": row["duration"], "next_retry_at": None,
            "hostname": row["hostname"] or "", "pid": row["pid"], "node_id": None, "queued_by": None,
            "last_heartbeat": utc(row.get("last_heartbeat_at")), "executor_info": None, "rendered_fields": None,
            "failure_reason": None, "updated_at": utc(row["updated_at"]),
        }


def _try(key: TiKey, number: int, state: TaskInstanceState, row: dict[str, Any]) -> dict[str, Any] | None:
    # Airflow 2's ``dags test`` records an end but no start; Tandem needs one.
    start = utc(row["start_date"]) or utc(row["end_date"])
    if start is None:
        return None
    dag_id, run_id, task_id, map_index = key
    return {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index, "try_number": number,
            "state": state.value, "start_date": start, "end_date": utc(row["end_date"]),
            "hostname": row.get("hostname") or "", "pid": row.get("pid"), "node_id": None}


def _earlier_tries(conn: sa.Connection, schema: AirflowSchema, runs: set[RunKey],
                   notes: Notes) -> dict[TiKey, dict[int, dict[str, Any]]]:
    found: dict[TiKey, dict[int, dict[str, Any]]] = defaultdict(dict)
    history = schema.table("task_instance_history")
    if history is not None:
        for row in rows.streamed(conn, sa.select(history)):
            key = _ti_key(row)
            if (row["dag_id"], row["run_id"]) in runs:
                state = _ti_state(notes, "task_try", f"{_ti_label(key)} try {row['try_number']}", row["state"])
                if (t := _try(key, row["try_number"], state, row)) is not None:
                    found[key][row["try_number"]] = t
    failures = schema.table("task_fail")
    if failures is not None:
        numbers: dict[TiKey, int] = defaultdict(int)
        for row in rows.streamed(conn, sa.select(failures).order_by(failures.c.id)):
            key = _ti_key(row)
            numbers[key] += 1
            # task_fail says neither the try number nor the host: only used where history is missing.
            if ((row["dag_id"], row["run_id"]) in runs and numbers[key] not in found[key]
                    and (t := _try(key, numbers[key], TaskInstanceState.FAILED, row)) is not None):
                found[key][numbers[key]] = t
    return found


def read_tries(conn: sa.Connection, schema: AirflowSchema, task_instances: list[dict[str, Any]],
               runs: set[RunKey], notes: Notes) -> Iterator[dict[str, Any]]:
    """Tandem ``task_try`` rows: earlier tries, then each task instance's current one."""
    tries = _earlier_tries(conn, schema, runs, notes)
    for ti in task_instances:
        state = TaskInstanceState(ti["state"])
        if ti["try_number"] >= 1 and state not in NOT_STARTED:
            current = _try(_ti_key(ti), ti["try_number"], state, ti)
            if current is not None:
                tries[_ti_key(ti)][ti["try_number"]] = current
    for key in sorted(tries):
        for number in sorted(tries[key]):
            yield tries[key][number]
