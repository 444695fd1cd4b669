"""Airflow XComs as Tandem rows: JSON values as they are, Airflow 2's bytes decoded.

Airflow 2 stores JSON bytes, or pickles when ``enable_xcom_pickling`` was on; a pickle of
anything but plain data is noted and left out, never unpickled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from tandem.db.merge import rows
from tandem.db.merge.airflow.convert import load, selectable, utc
from tandem.db.merge.airflow.notes import Notes
from tandem.db.merge.airflow.schema import AirflowSchema
from tandem.db.merge.airflow.values import Unconvertible
from tandem.models import XCom

KEY_LEN = rows.table_of(XCom).c.key.type.length  # type: ignore[attr-defined]


def read_xcoms(conn: sa.Connection, schema: AirflowSchema, runs: set[tuple[str, str]],
               notes: Notes) -> Iterator[dict[str, Any]]:
    table = schema.tables["xcom"]
    for row in rows.streamed(conn, selectable(table, "value")):
        if (row["dag_id"], row["run_id"]) not in runs:
            continue
        label = f"{row['dag_id']} / {row['run_id']} / {row['task_id']}" + (
            f" [{row['map_index']}]" if row["map_index"] >= 0 else "") + f" {row['key']!r}"
        if len(row["key"]) > KEY_LEN:
            notes.add("xcom", label, f"key is {len(row['key'])} characters, Tandem allows {KEY_LEN}", "not imported")
            continue
        try:
            value = load(row["value"])
        except Unconvertible as e:
            notes.add("xcom", label, f"value cannot be converted to JSON: {e}", "not imported")
            continue
        yield {"dag_id": row["dag_id"], "run_id": row["run_id"], "task_id": row["task_id"],
               "map_index": row["map_index"], "key": row["key"], "value": value, "timestamp": utc(row["timestamp"])}
