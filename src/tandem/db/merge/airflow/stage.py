"""An Airflow database converted into a temporary Tandem database, which the merge then reads.

Converting first keeps one merge: conflicts, renames, dry run and idempotence are those of
merging two Tandem instances, and every Airflow-specific decision is made here, once. The
conversion is deterministic (same Airflow rows, same Tandem rows), so merging the same
Airflow database again finds everything already present. Secrets are stored in the staged
database encrypted with this cluster's key.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.db.engine import create_engine
from tandem.db.merge import rows
from tandem.db.merge.airflow.keyed import open_secrets, read_connections, read_pools, read_variables
from tandem.db.merge.airflow.notes import Notes
from tandem.db.merge.airflow.runs import read_runs, read_task_instances, read_tries
from tandem.db.merge.airflow.schema import AirflowSchema
from tandem.db.merge.airflow.xcoms import read_xcoms
from tandem.db.merge.report import Unconverted
from tandem.db.migrate import migrate
from tandem.models import Connection, DagRun, Pool, TaskInstance, TaskTry, Variable, XCom
from tandem.models.user import Role

CHUNK = 1000


@dataclass(frozen=True)
class StagedAirflow:
    engine: Engine
    unconverted: list[Unconverted]


def _write(conn: sa.Connection, model: type[Any], values: Iterable[dict[str, Any]]) -> None:
    table, chunk = rows.table_of(model), []
    for row in values:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            rows.insert_rows(conn, table, chunk)
            chunk = []
    rows.insert_rows(conn, table, chunk)


def _convert(source: sa.Connection, staged: sa.Connection, schema: AirflowSchema, fernet_key: str | None,
             target_key: str | None, ask: Callable[[], str] | None) -> Notes:
    notes = Notes()
    secrets = open_secrets(source, schema, fernet_key, target_key, ask)
    # Migrating seeded the staged database with Tandem's default pool and roles: they are not
    # Airflow's (its default pool replaces ours; its users and roles are not imported).
    for seeded in (Pool, Role):
        staged.execute(rows.table_of(seeded).delete())
    _write(staged, Pool, read_pools(source, schema, notes))
    _write(staged, Variable, read_variables(source, schema, secrets))
    _write(staged, Connection, read_connections(source, schema, secrets))
    runs: set[tuple[str, str]] = set()

    def remember(run_rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in run_rows:
            runs.add((row["dag_id"], row["run_id"]))
            yield row

    _write(staged, DagRun, remember(read_runs(source, schema, notes)))
    task_instances = list(read_task_instances(source, schema, runs, notes))
    _write(staged, TaskInstance, task_instances)
    _write(staged, TaskTry, read_tries(source, schema, task_instances, runs, notes))
    _write(staged, XCom, read_xcoms(source, schema, runs, notes))
    return notes


@contextmanager
def staged_airflow(source: Engine, schema: AirflowSchema, fernet_key: str | None, target_key: str | None,
                   ask: Callable[[], str] | None) -> Iterator[StagedAirflow]:
    """A temporary Tandem SQLite database holding the Airflow database's rows; removed on exit."""
    folder = Path(tempfile.mkdtemp(prefix="tandem-airflow-merge-"))
    engine = create_engine(f"sqlite:///{folder / 'staged.db'}")
    try:
        migrate(engine)
        with source.connect() as src, engine.begin() as dst:
            notes = _convert(src, dst, schema, fernet_key, target_key, ask)
        yield StagedAirflow(engine, notes.items)
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
