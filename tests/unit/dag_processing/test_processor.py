from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import Settings
from tandem.dag_processing.processor import DagFileProcessor, parse_all
from tandem.dag_processing.store import fileloc_hash
from tandem.db.session import session_scope
from tandem.models import DagCode, DagModel, ImportError_, SerializedDagModel

from . import dag_files

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def _dag(engine: Engine, dag_id: str) -> DagModel | None:
    with session_scope(engine) as session:
        return session.get(DagModel, dag_id)


def _serialized(engine: Engine, dag_id: str) -> SerializedDagModel | None:
    with session_scope(engine) as session:
        return session.get(SerializedDagModel, dag_id)


def _errors(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return {e.filename: e.stacktrace for e in session.scalars(sa.select(ImportError_))}


def test_good_dag_is_stored(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    # Given
    path = dag_files.write_dag_file(dags_folder, "good.py", dag_files.simple_dag("good", extra_task="b"))

    # When
    stats = DagFileProcessor(settings, engine).run_once(NOW)

    # Then
    assert (stats.files, stats.dags, stats.import_errors, stats.parsed, stats.skipped) == (1, 1, 0, 1, 0)
    serialized = _serialized(engine, "good")
    assert serialized is not None and serialized.fileloc == str(path) and len(serialized.dag_hash) == 64
    assert serialized.data["dag_id"] == "good"
    with session_scope(engine) as session:
        code = session.get(DagCode, fileloc_hash(str(path)))
        assert code is not None and code.source == path.read_text()
    dag = _dag(engine, "good")
    assert dag is not None
    assert (dag.is_active, dag.is_paused, dag.fileloc, dag.tags) == (True, True, str(path), ["x"])
    assert dag.timetable_summary == "@daily" and dag.last_parsed_time == NOW and not dag.has_import_errors
    assert dag.next_dagrun == datetime(2024, 3, 9, tzinfo=UTC)
    assert dag.next_dagrun_data_interval_start == datetime(2024, 3, 9, tzinfo=UTC)
    assert dag.next_dagrun_data_interval_end == datetime(2024, 3, 10, tzinfo=UTC)
    assert dag.next_dagrun_create_after == datetime(2024, 3, 10, tzinfo=UTC)


def test_unscheduled_dag_has_no_next_run(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    dag_files.write_dag_file(dags_folder, "manual.py", dag_files.simple_dag("manual", schedule=None))

    parse_all(settings, engine)

    dag = _dag(engine, "manual")
    assert dag is not None and dag.next_dagrun is None and dag.next_dagrun_create_after is None


def test_paused_at_creation_setting_and_existing_flag_kept(
    dags_folder: Path, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings.core, "dags_are_paused_at_creation", False)
    path = dag_files.write_dag_file(dags_folder, "p.py", dag_files.simple_dag("p"))
    processor = DagFileProcessor(settings, engine)
    processor.run_once(NOW)
    assert _dag(engine, "p").is_paused is False  # type: ignore[union-attr]

    # A user pauses it; a re-parse of a changed file must not unpause it.
    with session_scope(engine) as session:
        session.execute(sa.update(DagModel).where(DagModel.dag_id == "p").values(is_paused=True))
    path.write_text(dag_files.simple_dag("p", extra_task="b"))
    processor.run_once(NOW + timedelta(minutes=1))

    assert _dag(engine, "p").is_paused is True  # type: ignore[union-attr]


def test_failing_file_does_not_stop_others(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    bad = dag_files.write_dag_file(dags_folder, "a_raises.py", dag_files.RAISES)
    dag_files.write_dag_file(dags_folder, "b_good.py", dag_files.simple_dag("good"))

    stats = parse_all(settings, engine)

    assert (stats.dags, stats.import_errors) == (1, 1)
    assert _dag(engine, "good") is not None
    assert _errors(engine)[str(bad)].splitlines()[-1] == f"{bad}:3: ValueError: boom at import"


def test_hang_and_exits_are_import_errors(
    dags_folder: Path, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings.core, "dag_file_processor_timeout", 0.5)
    hang = dag_files.write_dag_file(dags_folder, "hang.py", dag_files.HANGS)
    sys_exit = dag_files.write_dag_file(dags_folder, "sys_exit.py", dag_files.SYS_EXIT)
    os_exit = dag_files.write_dag_file(dags_folder, "os_exit.py", dag_files.OS_EXIT)

    stats = DagFileProcessor(settings, engine, parallelism=3).run_once(NOW)

    assert stats.import_errors == 3 and stats.seconds < 3
    assert _errors(engine) == {
        str(hang): f"{hang}: import timed out after 0.5 s",
        str(sys_exit): f"{sys_exit}: exited with code 3 during import",
        str(os_exit): f"{os_exit}: exited with code 4 during import",
    }


def test_duplicate_dag_id_second_file_is_error(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    first = dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("same"))
    second = dag_files.write_dag_file(dags_folder, "b.py", dag_files.simple_dag("same"))

    stats = parse_all(settings, engine)

    assert (stats.dags, stats.import_errors) == (1, 1)
    assert _dag(engine, "same").fileloc == str(first)  # type: ignore[union-attr]
    assert _errors(engine) == {
        str(second): f"{second}:5: DAG 'same': duplicate dag_id, already defined in {first}"
    }


def test_duplicate_resolved_when_first_file_drops_the_dag(
    dags_folder: Path, settings: Settings, engine: Engine
) -> None:
    first = dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("same"))
    second = dag_files.write_dag_file(dags_folder, "b.py", dag_files.simple_dag("same"))
    processor = DagFileProcessor(settings, engine)
    processor.run_once(NOW)

    first.write_text(dag_files.simple_dag("renamed"))
    stats = processor.run_once(NOW + timedelta(seconds=1))

    # b.py was unchanged but in error, so it was retried and now owns "same".
    assert (stats.parsed, stats.dags, stats.import_errors) == (2, 2, 0)
    assert _dag(engine, "same").fileloc == str(second)  # type: ignore[union-attr]
    assert _errors(engine) == {}


def test_cycle_error_text_is_stored(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    path = dag_files.write_dag_file(dags_folder, "cycle.py", dag_files.CYCLE)

    parse_all(settings, engine)

    assert _errors(engine) == {str(path): f"{path}:4: DAG 'cyclic': cycle detected: a -> b -> a"}
    assert _dag(engine, "cyclic") is None


def test_removed_file_deactivates_dag(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    good = dag_files.write_dag_file(dags_folder, "good.py", dag_files.simple_dag("good"))
    bad = dag_files.write_dag_file(dags_folder, "bad.py", dag_files.RAISES)
    processor = DagFileProcessor(settings, engine)
    processor.run_once(NOW)

    good.unlink()
    bad.unlink()
    stats = processor.run_once(NOW + timedelta(seconds=5))

    assert (stats.files, stats.dags, stats.import_errors) == (0, 0, 0)
    assert _dag(engine, "good").is_active is False  # type: ignore[union-attr]
    assert _serialized(engine, "good") is None
    assert _errors(engine) == {}
    with session_scope(engine) as session:
        assert session.scalars(sa.select(DagCode)).all() == []


def test_changed_file_is_reparsed_and_unchanged_skipped(
    dags_folder: Path, settings: Settings, engine: Engine
) -> None:
    path = dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("a"))
    dag_files.write_dag_file(dags_folder, "b.py", dag_files.simple_dag("b"))
    processor = DagFileProcessor(settings, engine)
    processor.run_once(NOW)
    old_hash = _serialized(engine, "a").dag_hash  # type: ignore[union-attr]
    b_updated = _serialized(engine, "b").last_updated  # type: ignore[union-attr]

    path.write_text(dag_files.simple_dag("a", extra_task="b"))
    stats = processor.run_once(NOW + timedelta(seconds=1))

    assert (stats.parsed, stats.skipped) == (1, 1)
    serialized = _serialized(engine, "a")
    assert serialized is not None and serialized.dag_hash != old_hash
    assert [t["task_id"] for t in serialized.data["tasks"]] == ["a", "b"]
    assert _serialized(engine, "b").last_updated == b_updated  # type: ignore[union-attr]


def test_min_file_process_interval_limits_reparsing(
    dags_folder: Path, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings.scheduler, "min_file_process_interval", 30)
    path = dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("a"))
    processor = DagFileProcessor(settings, engine)
    processor.run_once(NOW)
    path.write_text(dag_files.simple_dag("a", extra_task="b"))

    assert processor.run_once(NOW + timedelta(seconds=10)).parsed == 0
    assert processor.run_once(NOW + timedelta(seconds=30)).parsed == 1


def test_file_that_starts_failing_keeps_last_good_dag(
    dags_folder: Path, settings: Settings, engine: Engine
) -> None:
    path = dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("a"))
    processor = DagFileProcessor(settings, engine)
    processor.run_once(NOW)

    path.write_text(dag_files.simple_dag("a") + "raise RuntimeError('oops')\n")
    processor.run_once(NOW + timedelta(seconds=1))

    dag = _dag(engine, "a")
    assert dag is not None and dag.is_active and dag.has_import_errors
    assert _serialized(engine, "a") is not None
    assert _errors(engine)[str(path)].endswith(f"{path}:7: RuntimeError: oops")


def test_dag_moved_to_new_file_is_not_a_duplicate(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    old = dag_files.write_dag_file(dags_folder, "old.py", dag_files.simple_dag("moving"))
    processor = DagFileProcessor(settings, engine)
    processor.run_once(NOW)

    old.rename(dags_folder / "new.py")
    processor.run_once(NOW + timedelta(seconds=5))

    dag = _dag(engine, "moving")
    assert dag is not None and dag.is_active and dag.fileloc == str((dags_folder / "new.py").resolve())
    assert _errors(engine) == {}


def test_dag_removed_from_file_is_deactivated(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    path = dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("one"))
    processor = DagFileProcessor(settings, engine)
    processor.run_once(NOW)

    path.write_text(dag_files.simple_dag("two"))
    processor.run_once(NOW + timedelta(seconds=1))

    assert _dag(engine, "one").is_active is False  # type: ignore[union-attr]
    assert _serialized(engine, "one") is None and _serialized(engine, "two") is not None


def test_run_forever_stops_on_event(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("a"))
    stop = threading.Event()
    processor = DagFileProcessor(settings, engine)
    passes: list[Any] = []
    original = processor.run_once

    def run_once(now: datetime) -> Any:
        passes.append(original(now))
        stop.set()
        return passes[-1]

    processor.run_once = run_once  # type: ignore[method-assign]
    thread = threading.Thread(target=processor.run_forever, args=(stop,))
    thread.start()
    thread.join(10)

    assert not thread.is_alive() and len(passes) == 1 and passes[0].dags == 1


def test_refresh_interval_reparses_unchanged_files(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    dag_files.write_dag_file(dags_folder, "a.py", dag_files.simple_dag("a"))
    processor = DagFileProcessor(settings, engine, refresh_interval=60)
    processor.run_once(NOW)

    assert processor.run_once(NOW + timedelta(seconds=59)).parsed == 0
    assert processor.run_once(NOW + timedelta(seconds=60)).parsed == 1


def test_example_dags_parse_cleanly(
    dags_folder: Path, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings.core, "load_examples", True)

    stats = parse_all(settings, engine, parallelism=4)

    assert _errors(engine) == {}
    assert stats.dags >= 1 and stats.import_errors == 0


def test_airflow_file_reading_a_variable_at_top_level(dags_folder: Path, settings: Settings, engine: Engine) -> None:
    # Given an Airflow DAG file whose dag_id comes from a variable in the metadata DB
    from tandem.models.variable import set_variable

    with session_scope(engine) as session:
        set_variable(session, "dag_name", "from_variable")
    (dags_folder / "airflow_style.py").write_text(
        "import pendulum\nfrom airflow.sdk import DAG, Variable\nfrom airflow.providers.standard.operators.empty "
        "import EmptyOperator\n\nwith DAG(Variable.get('dag_name'), schedule='@daily', "
        "start_date=pendulum.datetime(2024, 1, 1, tz='Europe/Paris')):\n    EmptyOperator(task_id='t')\n"
    )

    # When the processor parses it
    stats = DagFileProcessor(settings, engine).run_once(NOW)

    # Then the DAG is found, with Airflow 3's reading of its cron schedule
    assert (stats.dags, stats.import_errors) == (1, 0)
    serialized = _serialized(engine, "from_variable")
    assert serialized is not None
    assert serialized.data["schedule"]["kind"] == "cron_trigger" and serialized.data["timezone"] == "Europe/Paris"
