from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import Settings
from tandem.dag_processing import processor as processor_module
from tandem.dag_processing.parser import ParseResult, parse_files
from tandem.dag_processing.processor import DagFileProcessor
from tandem.dag_processing.processor import ParseStats as ProcessorStats
from tandem.dag_processing.store import deactivate_missing, store_parse_result
from tandem.db.session import session_scope
from tandem.models import DagModel, ImportError_, SerializedDagModel

from . import dag_files

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)

# The writes must hold on every dialect: these run on PostgreSQL and MySQL when reachable.
pytestmark = pytest.mark.parametrize(
    "db_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)],
    indirect=True,
)


def _parse(path: Path) -> ParseResult:
    [result] = parse_files([str(path)], timeout=5)
    return result


def test_storing_the_same_result_twice_rewrites_nothing(
    dags_folder: Path, settings: Settings, engine: Engine
) -> None:
    path = dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("a"))
    result = _parse(path)
    with session_scope(engine) as session:
        store_parse_result(session, str(path), result, NOW)

    with session_scope(engine) as session:
        assert store_parse_result(session, str(path), result, NOW + timedelta(hours=1)) is None

    with session_scope(engine) as session:
        serialized = session.get(SerializedDagModel, "a")
        assert serialized is not None and serialized.last_updated == NOW
        assert session.scalar(sa.select(sa.func.count()).select_from(DagModel)) == 1


def test_next_dagrun_kept_unless_schedule_changes(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    # Given a stored DAG whose next run the scheduler has since advanced
    path = dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("a"))
    with session_scope(engine) as session:
        store_parse_result(session, str(path), _parse(path), NOW)
        session.execute(sa.update(DagModel).values(next_dagrun=datetime(2024, 3, 10, tzinfo=UTC)))

    # When the file changes but not its schedule, the scheduler's value stays
    path.write_text(dag_files.simple_dag("a", extra_task="b"))
    with session_scope(engine) as session:
        store_parse_result(session, str(path), _parse(path), NOW)
        assert session.get(DagModel, "a").next_dagrun == datetime(2024, 3, 10, tzinfo=UTC)  # type: ignore[union-attr]

    # When the schedule changes, the next run is computed afresh
    path.write_text(dag_files.simple_dag("a", schedule="@hourly"))
    with session_scope(engine) as session:
        store_parse_result(session, str(path), _parse(path), NOW)
        dag = session.get(DagModel, "a")
        assert dag is not None and dag.timetable_summary == "@hourly"
        assert dag.next_dagrun == datetime(2024, 3, 10, 11, tzinfo=UTC)


def test_deactivate_missing_keeps_listed_files(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    kept = dag_files.write_dag_file(dags_folder, "kept.py", dag_files.simple_dag("kept"))
    gone = dag_files.write_dag_file(dags_folder, "gone.py", dag_files.simple_dag("gone"))
    broken = dag_files.write_dag_file(dags_folder, "broken.py", dag_files.RAISES)
    with session_scope(engine) as session:
        for path in (kept, gone, broken):
            store_parse_result(session, str(path), _parse(path), NOW)

    with session_scope(engine) as session:
        # Rows written at or after the listing started belong to a newer listing.
        assert deactivate_missing(session, [str(kept)], NOW) == []
    with session_scope(engine) as session:
        assert deactivate_missing(session, [str(kept)], NOW + timedelta(seconds=1)) == ["gone"]

    with session_scope(engine) as session:
        active = dict(session.execute(sa.select(DagModel.dag_id, DagModel.is_active)).all())
        assert active == {"kept": True, "gone": False}
        assert session.scalars(sa.select(ImportError_)).all() == []


def test_integrity_error_is_retried_once(
    dags_folder: Path, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A peer processor inserting the same row between our read and write shows up as
    # IntegrityError; the processor stores the file again in a new transaction.
    dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("a"))
    calls: list[str] = []
    real_store = processor_module.store_parse_result

    def racing_store(session, fileloc, result, now, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(fileloc)
        if len(calls) == 1:
            raise sa.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
        return real_store(session, fileloc, result, now, **kwargs)

    monkeypatch.setattr(processor_module, "store_parse_result", racing_store)

    stats = DagFileProcessor(settings, engine).run_once(NOW)

    assert len(calls) == 2 and stats.dags == 1


def test_two_processors_at_once_converge(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    # Given one folder seen by two processors (two schedulers sharing a DB)
    for i in range(6):
        dag_files.write_dag_file(dags_folder, f"d{i}.py", dag_files.simple_dag(f"d{i}"))
    dag_files.write_dag_file(dags_folder, "bad.py", dag_files.RAISES)
    processors = [DagFileProcessor(settings, engine, parallelism=3) for _ in range(2)]
    stats: list[ProcessorStats] = []

    # When both store the same files at the same time
    threads = [threading.Thread(target=lambda p=p: stats.append(p.run_once(NOW))) for p in processors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # Then the bundle's lease gave it to one of them: no file parsed twice, none lost
    assert sorted((s.dags, s.import_errors, s.parsed, s.bundles_elsewhere) for s in stats) == [
        (0, 0, 0, 1), (6, 1, 7, 0)]
    with session_scope(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(DagModel)) == 6
        assert session.scalar(sa.select(sa.func.count()).select_from(SerializedDagModel)) == 6
        assert session.scalar(sa.select(sa.func.count()).select_from(ImportError_)) == 1
