"""Writing parse results to the metadata DB: serialized DAGs, source, ``dag`` rows, import errors.

Invariants:
- every write is an upsert, insert-ignore or keyed update, so two processors storing the
  same file at once converge on the same rows; a unique-key race that still slips through
  surfaces as IntegrityError and the caller retries the file once (see processor.py);
- ``serialized_dag`` is rewritten only when the DAG's hash (or file) changed, so readers
  can use ``dag_hash`` to notice new versions;
- ``is_paused`` is written only when a ``dag`` row is created; users own it afterwards;
- ``next_dagrun*`` is computed here only for a DAG that is new, was inactive, or whose
  schedule, time zone, start/end date or catchup changed; otherwise the scheduler owns it;
- a file that fails to import keeps its DAGs' last good serialized version (running DAGs
  carry on), and their ``dag`` rows say ``has_import_errors``;
- a dag_id already held by an active DAG of another existing file makes this file an
  import error naming both files (first come, first served, as in Airflow).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.config import get_settings
from tandem.dag_processing.parser import ParsedDag, ParseResult
from tandem.db.dialects import BaseDialect, dialect_for
from tandem.models import Base, DagCode, DagModel, DagRun, ImportError_, SerializedDagModel

log = logging.getLogger(__name__)

_TIMING_KEYS = ("schedule", "timezone", "start_date", "end_date", "catchup")
# Core tables (not ORM entities): bulk updates and dialect upserts work on these.
_dag = Base.metadata.tables[DagModel.__tablename__]
_serialized = Base.metadata.tables[SerializedDagModel.__tablename__]
_dag_run = Base.metadata.tables[DagRun.__tablename__]
_code = Base.metadata.tables[DagCode.__tablename__]
_import_error = Base.metadata.tables[ImportError_.__tablename__]


@dataclass(frozen=True)
class BundleRef:
    """The bundle version a parse result belongs to, and the folder its files were read from."""

    name: str
    version: str
    root: Path

    def relative(self, fileloc: str) -> str | None:
        try:
            return Path(fileloc).relative_to(self.root).as_posix()
        except ValueError:
            return None



def with_bundle(parsed: ParsedDag, bundle_name: str, relative_fileloc: str) -> ParsedDag:
    """The DAG's JSON with where runners find its file (bundle, path inside it), hash recomputed."""
    from tandem.sdk.serialization import dag_hash

    data = {**parsed.data, "bundle_name": bundle_name, "relative_fileloc": relative_fileloc}
    return replace(parsed, data=data, dag_hash=dag_hash(data))


def move_to_version(session: Session, filelocs: list[str], bundle: BundleRef) -> None:
    """The DAGs of these unchanged files now belong to ``bundle.version`` (their bytes are equal)."""
    values = {"bundle_name": bundle.name, "bundle_version": bundle.version}
    for start in range(0, len(filelocs), 500):
        chunk = filelocs[start:start + 500]
        for table in (_serialized, _dag):
            session.execute(sa.update(table).where(table.c.fileloc.in_(chunk)).values(**values))


def fileloc_hash(fileloc: str) -> str:
    """Key of a file in ``dag_code`` and ``import_error`` (paths exceed index limits)."""
    return hashlib.sha256(fileloc.encode("utf-8")).hexdigest()


def _dialect(session: Session) -> BaseDialect:
    return dialect_for(session.get_bind().engine.url.render_as_string(hide_password=True))


def store_parse_result(
    session: Session,
    fileloc: str,
    result: ParseResult,
    now: datetime,
    *,
    paused_at_creation: bool | None = None,
    bundle: BundleRef | None = None,
) -> str | None:
    """Record what parsing ``fileloc`` produced; return the import error stored, if any.

    ``paused_at_creation`` defaults to ``settings.core.dags_are_paused_at_creation``;
    ``bundle`` is the bundle version the file was read from (recorded with its DAGs).
    """
    if paused_at_creation is None:
        paused_at_creation = get_settings().core.dags_are_paused_at_creation
    dialect = _dialect(session)
    if result.source is not None:
        session.execute(dialect.upsert(
            _code,
            {"fileloc_hash": fileloc_hash(fileloc), "fileloc": fileloc, "source": result.source,
             "last_updated": now},
            ["fileloc_hash"],
        ))
    error = result.import_error or _duplicate_error(session, fileloc, result.dags)
    if error is not None:
        _store_import_error(session, dialect, fileloc, error, now)
        return error
    session.execute(sa.delete(_import_error).where(_import_error.c.fileloc_hash == fileloc_hash(fileloc)))
    relative = bundle.relative(fileloc) if bundle is not None else None
    for parsed in result.dags:
        if bundle is not None and relative is not None:
            parsed = with_bundle(parsed, bundle.name, relative)
        _store_dag(session, dialect, fileloc, parsed, now, paused_at_creation, bundle)
    _deactivate(session, _file_dags_not_in(session, fileloc, {d.dag_id for d in result.dags}))
    return None


def _duplicate_error(session: Session, fileloc: str, dags: list[ParsedDag]) -> str | None:
    if not dags:
        return None
    lines = {d.dag_id: d.lineno for d in dags}
    rows = session.execute(
        sa.select(_dag.c.dag_id, _dag.c.fileloc)
        .where(_dag.c.dag_id.in_(lines), _dag.c.is_active.is_(True), _dag.c.fileloc != fileloc)
    ).all()
    # The other file may have been deleted since its last parse; then this one inherits.
    taken = sorted((row.dag_id, row.fileloc) for row in rows if os.path.exists(row.fileloc))
    if not taken:
        return None
    return "\n".join(
        f"{fileloc}:{lines[dag_id]}: DAG '{dag_id}': duplicate dag_id, already defined in {other}"
        for dag_id, other in taken
    )


def _store_import_error(session: Session, dialect: BaseDialect, fileloc: str, error: str, now: datetime) -> None:
    session.execute(dialect.upsert(
        _import_error,
        {"fileloc_hash": fileloc_hash(fileloc), "filename": fileloc, "stacktrace": error, "timestamp": now},
        ["fileloc_hash"],
    ))
    session.execute(
        sa.update(_dag).where(_dag.c.fileloc == fileloc, _dag.c.is_active.is_(True))
        .values(has_import_errors=True, last_parsed_time=now)
    )


def _store_dag(
    session: Session, dialect: BaseDialect, fileloc: str, parsed: ParsedDag, now: datetime, paused: bool,
    bundle: BundleRef | None = None,
) -> None:
    old = session.execute(
        sa.select(_serialized.c.data, _serialized.c.dag_hash, _serialized.c.fileloc, _serialized.c.bundle_version)
        .where(_serialized.c.dag_id == parsed.dag_id)
    ).first()
    version = {"bundle_name": bundle.name, "bundle_version": bundle.version} if bundle is not None else {}
    if old is not None and old.dag_hash == parsed.dag_hash and old.fileloc == fileloc and version \
            and old.bundle_version != bundle.version:  # type: ignore[union-attr]
        # Same DAG in a new bundle version: new runs must record (and run) the new version.
        session.execute(sa.update(_serialized).where(_serialized.c.dag_id == parsed.dag_id).values(**version))
    if old is None or old.dag_hash != parsed.dag_hash or old.fileloc != fileloc:
        session.execute(dialect.upsert(
            _serialized,
            {"dag_id": parsed.dag_id, "data": parsed.data, "dag_hash": parsed.dag_hash, "fileloc": fileloc,
             "last_updated": now, **version},
            ["dag_id"],
        ))
        # Runs put off because the old version could not be scheduled get a chance at once.
        session.execute(sa.update(_dag_run).where(_dag_run.c.dag_id == parsed.dag_id,
                                                  _dag_run.c.next_scheduling_at.is_not(None))
                        .values(next_scheduling_at=None))
    was_active = session.execute(sa.select(_dag.c.is_active).where(_dag.c.dag_id == parsed.dag_id)).scalar()
    values = {**_dag_values(parsed.data, fileloc, now), **version}
    if old is None or not was_active or _timing(old.data) != _timing(parsed.data):
        values.update(next_dagrun_values(parsed.data, now))
    # Insert-ignore first so that a concurrent creator and we agree on one row and is_paused
    # is set only at creation; then the update applies our values either way.
    session.execute(dialect.insert_ignore(_dag, [{"dag_id": parsed.dag_id, "is_paused": paused, **values}]))
    session.execute(sa.update(_dag).where(_dag.c.dag_id == parsed.dag_id).values(**values))


def _dag_values(data: dict[str, Any], fileloc: str, now: datetime) -> dict[str, Any]:
    settings = get_settings()
    schedule = data.get("schedule") or {}
    return {
        "is_active": True,
        "fileloc": fileloc,
        "owners": str(data.get("owner") or "")[:200],
        "description": data.get("description"),
        "tags": list(data.get("tags") or []),
        "timetable_summary": str(schedule.get("summary") or "")[:200],
        "max_active_runs": data.get("max_active_runs") or settings.core.max_active_runs_per_dag,
        "max_active_tasks": data.get("max_active_tasks") or settings.core.max_active_tasks_per_dag,
        "last_parsed_time": now,
        "has_import_errors": False,
    }


def _timing(data: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(repr(data.get(key)) for key in _TIMING_KEYS)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float):
        dt = datetime.fromtimestamp(value, UTC)
    else:
        dt = datetime.fromisoformat(str(value))
    if dt is not None and dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def next_dagrun_values(data: dict[str, Any], now: datetime) -> dict[str, datetime | None]:
    """The ``dag`` columns describing the first run the scheduler should create from ``now``."""
    from tandem.sdk.timetables import timetable_for

    empty: dict[str, datetime | None] = {
        "next_dagrun": None,
        "next_dagrun_data_interval_start": None,
        "next_dagrun_data_interval_end": None,
        "next_dagrun_create_after": None,
    }
    try:
        timetable = timetable_for(data.get("schedule") or {"kind": "none"}, data.get("timezone") or "UTC")
        info = timetable.next_dagrun_info(
            last_automated_interval=None,
            start_date=_as_datetime(data.get("start_date")),
            end_date=_as_datetime(data.get("end_date")),
            catchup=bool(data.get("catchup")),
            now=now,
        )
    except Exception:  # a timetable bug must not stop the file's DAGs from being stored
        log.exception("cannot compute the next run of DAG %r", data.get("dag_id"))
        return empty
    if info is None:
        return empty
    return {
        "next_dagrun": info.logical_date,
        "next_dagrun_data_interval_start": info.data_interval.start,
        "next_dagrun_data_interval_end": info.data_interval.end,
        "next_dagrun_create_after": info.run_after,
    }


def _file_dags_not_in(session: Session, fileloc: str, keep: Collection[str]) -> list[str]:
    rows = session.execute(
        sa.select(_dag.c.dag_id).where(_dag.c.fileloc == fileloc, _dag.c.is_active.is_(True))
    ).scalars()
    return [dag_id for dag_id in rows if dag_id not in keep]


def _deactivate(session: Session, dag_ids: list[str]) -> None:
    for start in range(0, len(dag_ids), 500):
        chunk = dag_ids[start : start + 500]
        session.execute(sa.update(_dag).where(_dag.c.dag_id.in_(chunk)).values(is_active=False))
    _delete_in(session, _serialized.c.dag_id, dag_ids)


def deactivate_missing(
    session: Session, seen_filelocs: Collection[str], now: datetime, *, under: Path | None = None
) -> list[str]:
    """Deactivate DAGs of files not in ``seen_filelocs``; drop those files' code and errors.

    ``now`` is when the listing ``seen_filelocs`` was started: rows written at or after it
    were written by a peer processor that saw a newer listing, and are left alone (the
    next listing here will include their file). ``under``: only files below this folder (one
    bundle's) are considered. Returns the deactivated dag_ids.
    """
    seen = set(seen_filelocs)
    prefix = str(under).rstrip(os.sep) + os.sep if under is not None else ""

    def stale(fileloc: str, written: datetime | None) -> bool:
        return fileloc not in seen and fileloc.startswith(prefix) and (written is None or written < now)

    active = session.execute(
        sa.select(_dag.c.dag_id, _dag.c.fileloc, _dag.c.last_parsed_time).where(_dag.c.is_active.is_(True))
    ).all()
    gone = sorted(row.dag_id for row in active if stale(row.fileloc, row.last_parsed_time))
    _deactivate(session, gone)
    # A DAG deactivated before this version may still have a serialized row; drop it too.
    serialized = session.execute(
        sa.select(_serialized.c.dag_id, _serialized.c.fileloc, _serialized.c.last_updated)
    ).all()
    orphans = [r.dag_id for r in serialized if stale(r.fileloc, r.last_updated) and r.dag_id not in gone]
    _delete_in(session, _serialized.c.dag_id, orphans)
    errors = session.execute(sa.select(_import_error.c.id, _import_error.c.filename, _import_error.c.timestamp))
    _delete_in(session, _import_error.c.id, [r.id for r in errors if stale(r.filename, r.timestamp)])
    codes = session.execute(sa.select(_code.c.fileloc_hash, _code.c.fileloc, _code.c.last_updated))
    _delete_in(session, _code.c.fileloc_hash, [r.fileloc_hash for r in codes if stale(r.fileloc, r.last_updated)])
    if gone:
        log.info("deactivated %d DAG(s) whose files vanished: %s", len(gone), gone)
    return gone


def _delete_in(session: Session, column: sa.Column[Any], keys: list[Any]) -> None:
    # Chunked: a few hundred bound parameters per statement suit every dialect.
    for start in range(0, len(keys), 500):
        session.execute(sa.delete(column.table).where(column.in_(keys[start : start + 500])))
