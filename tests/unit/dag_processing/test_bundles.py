"""Versioned DAG bundles: versions in the DB, runs keep theirs, runners materialize, GC."""

from __future__ import annotations

import multiprocessing
import os
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import load_settings
from tandem.config.dag_processor import BundleConfig
from tandem.dag_processing.bundles.base import BundleError
from tandem.dag_processing.bundles.cache import materialize, prune
from tandem.dag_processing.bundles.gc import collect_garbage, stored_versions
from tandem.dag_processing.bundles.loader import load_bundles
from tandem.dag_processing.bundles.storage import BundleVersionMissing
from tandem.db.session import session_scope
from tandem.models import BundleFileContent, DagBundleVersion, DagRun, XCom, utcnow
from tandem.orchestration.actions import clear_task_instances
from tests.fixtures.scheduler import HEADER, Harness

VERSIONED = HEADER + """
import helper

with DAG("versioned", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def which():
        return "{label}-" + helper.LABEL
    which()
"""


def _write(folder: Path, label: str, helper: str = "h1") -> None:
    (folder / "helper.py").write_text(f"LABEL = {helper!r}\n")
    (folder / "versioned.py").write_text(VERSIONED.replace("{label}", label))


def _result(harness: Harness, run_id: str) -> object:
    with session_scope(harness.engine) as session:
        return session.execute(sa.select(XCom.value).where(XCom.run_id == run_id, XCom.task_id == "which")).scalar()


def _run_version(harness: Harness, run_id: str) -> str | None:
    with session_scope(harness.engine) as session:
        return session.execute(sa.select(DagRun.bundle_version).where(DagRun.run_id == run_id)).scalar()


def test_a_run_keeps_its_version_and_runs_without_local_files(harness: Harness, dags_folder: Path) -> None:
    # Given a run created with version 1 of the DAG file
    _write(dags_folder, "v1")
    harness.add_dag("placeholder", "")  # parses the folder
    scheduler = harness.scheduler()
    first = harness.trigger("versioned", scheduler)

    # When the file changes (and its helper) before the run's task starts, and a second run is made
    _write(dags_folder, "v2", helper="h2")
    harness.add_dag("placeholder", "")
    second = harness.trigger("versioned", scheduler)
    # ... and this node loses its DAG files altogether
    for path in dags_folder.iterdir():
        path.unlink()

    # Then each run runs its own version's code, materialized from the DB
    assert harness.drive(scheduler, "versioned", first) == "success"
    assert harness.drive(scheduler, "versioned", second) == "success"
    assert (_result(harness, first), _result(harness, second)) == ("v1-h1", "v2-h2")
    v1, v2 = _run_version(harness, first), _run_version(harness, second)
    assert v1 and v2 and v1 != v2
    cache = harness.settings.bundle_cache_folder / "dags-folder"
    assert sorted(p.name for p in cache.iterdir()) == sorted([v1, v2])

    # And a cleared run keeps its version
    with session_scope(harness.engine) as session:
        clear_task_instances(session, "versioned", run_ids=[first])
    assert harness.drive(scheduler, "versioned", first) == "success"
    assert (_result(harness, first), _run_version(harness, first)) == ("v1-h1", v1)


def test_contents_are_stored_once_and_gc_keeps_what_runs_need(harness: Harness, dags_folder: Path) -> None:
    # Given two versions sharing the helper file, and a finished run on each
    _write(dags_folder, "v1")
    harness.add_dag("placeholder", "")
    scheduler = harness.scheduler()
    first = harness.trigger("versioned", scheduler)
    assert harness.drive(scheduler, "versioned", first) == "success"
    _write(dags_folder, "v2")
    harness.add_dag("placeholder", "")
    second = harness.trigger("versioned", scheduler)
    v1, v2 = _run_version(harness, first), _run_version(harness, second)
    with session_scope(harness.engine) as session:
        # placeholder.py, helper.py, versioned.py v1 and v2: the unchanged files once each
        assert session.scalar(sa.select(sa.func.count()).select_from(BundleFileContent)) == 4

    # When garbage is collected while the second run is unfinished
    with session_scope(harness.engine) as session:
        stats = collect_garbage(session, utcnow() + timedelta(seconds=1), retention=0)

    # Then the first version (finished run, not latest) goes with its own file; the second stays
    assert (stats.versions, stats.contents) == (1, 1)
    with session_scope(harness.engine) as session:
        kept = stored_versions(session)
    assert kept == {"dags-folder": {v2}}
    assert _run_version(harness, first) == v1  # kept for display
    removed = prune(harness.settings.bundle_cache_folder, kept)
    assert [p.name for p in removed] == [v1]

    # And clearing the old run fails its try, naming the missing version
    with session_scope(harness.engine) as session:
        clear_task_instances(session, "versioned", run_ids=[first])
    assert harness.drive(scheduler, "versioned", first) == "failed"
    with session_scope(harness.engine) as session:
        from tandem.models import TaskInstance

        reason = session.scalar(sa.select(TaskInstance.failure_reason).where(TaskInstance.run_id == first))
    assert reason is not None and v1 in reason and "no longer stored" in reason
    assert harness.drive(scheduler, "versioned", second) == "success"


def _materialize_in_child(cache: str, version: str, url: str) -> None:
    from tandem.db.engine import get_engine, release_after_fork

    release_after_fork()
    folder = materialize(Path(cache), "dags-folder", version, lambda: session_scope(get_engine(url)))
    os._exit(0 if (folder / "versioned.py").is_file() else 3)


def test_concurrent_runners_materialize_one_folder(harness: Harness, dags_folder: Path, tmp_path: Path) -> None:
    _write(dags_folder, "v1")
    harness.add_dag("placeholder", "")
    with session_scope(harness.engine) as session:
        version = session.scalar(sa.select(DagBundleVersion.version))
    assert version is not None
    cache = tmp_path / "cache"
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_materialize_in_child, args=(str(cache), version, str(harness.engine.url)))
                for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [c.exitcode for c in children] == [0, 0, 0, 0]
    assert [p.name for p in (cache / "dags-folder").iterdir()] == [version]  # no temp folder left


def test_a_version_never_stored_is_a_clear_error(harness: Harness, tmp_path: Path) -> None:
    with pytest.raises(BundleVersionMissing, match="bundle 'dags-folder' version abc is no longer stored"):
        materialize(tmp_path, "dags-folder", "abc", lambda: session_scope(harness.engine))
    with pytest.raises(BundleError, match="cannot name a cache folder"):
        materialize(tmp_path, "dags-folder", "../x", lambda: session_scope(harness.engine))


def test_bundle_config_errors_name_the_entry(engine: Engine) -> None:
    settings = load_settings()
    settings.dag_processor.dag_bundle_config_list = [BundleConfig(name="x", classpath="nope.Missing")]
    with pytest.raises(BundleError, match=r"bundle 'x': classpath 'nope.Missing' cannot be loaded"):
        load_bundles(settings)
    settings.dag_processor.dag_bundle_config_list = [BundleConfig(name="x"), BundleConfig(name="x")]
    with pytest.raises(BundleError, match=r"duplicate bundle name\(s\): \['x'\]"):
        load_bundles(settings)
    settings.dag_processor.dag_bundle_config_list = [BundleConfig(name="g", classpath="git", kwargs={"bad": 1})]
    with pytest.raises(BundleError, match="bundle 'g'"):
        load_bundles(settings)


def test_a_dead_processors_bundle_moves_to_a_peer(harness: Harness, dags_folder: Path) -> None:
    from tandem.dag_processing.processor import DagFileProcessor
    from tandem.models import DagBundle

    # Given a processor holding the bundle (it parsed it), and a peer
    _write(dags_folder, "v1")
    holder, peer = DagFileProcessor(harness.settings, harness.engine), DagFileProcessor(harness.settings, harness.engine)
    assert holder.run_once(utcnow()).parsed == 1
    assert (peer.run_once(utcnow()).bundles_elsewhere, peer.run_once(utcnow()).parsed) == (1, 0)

    # When the holder dies (its lease runs out), Then the peer takes the bundle and parses it afresh
    with session_scope(harness.engine) as session:
        session.execute(sa.update(DagBundle).values(lease_until=utcnow() - timedelta(seconds=1)))
    stats = peer.run_once(utcnow())
    assert (stats.bundles, stats.parsed, stats.dags) == (1, 1, 1)
    assert holder.run_once(utcnow()).bundles_elsewhere == 1

    # And a processor that stops cleanly hands its bundles over at once
    peer.release()
    assert holder.run_once(utcnow()).bundles == 1


def test_a_scan_lists_each_regular_file_once_with_its_stat(tmp_path: Path) -> None:
    # Given a folder with nested, hidden, compiled and linked entries
    from tandem.dag_processing.bundles.base import scan_files

    (tmp_path / "b.py").write_text("b")
    (tmp_path / "a.py").write_text("aa")
    (tmp_path / ".hidden.py").write_text("x")
    (tmp_path / ".tandemignore").write_text("skip_*")
    (tmp_path / "c.pyc").write_bytes(b"\0")
    for folder in ("sub", ".git", "__pycache__", "elsewhere"):
        (tmp_path / folder).mkdir()
    (tmp_path / "sub" / "d.py").write_text("ddd")
    (tmp_path / ".git" / "e.py").write_text("e")
    (tmp_path / "__pycache__" / "f.py").write_text("f")
    (tmp_path / "elsewhere" / "g.py").write_text("g")
    (tmp_path / "zlinked").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    # When it is scanned
    found = scan_files(tmp_path)
    # Then every regular file is listed in walk order (files, then folders, by name), links followed
    assert list(found) == [".tandemignore", "a.py", "b.py", "elsewhere/g.py", "sub/d.py", "zlinked/g.py"]
    assert found["sub/d.py"].st_size == 3 and found["a.py"].st_size == 2
    assert scan_files(tmp_path / "missing") == {}


def test_a_local_snapshot_carries_the_stat_of_every_file_the_processor_lists(tmp_path: Path) -> None:
    # Given DAG files at the top of a local bundle and in a subfolder
    from tandem.dag_processing.bundles.local import LocalDagBundle
    from tandem.dag_processing.discovery import list_dag_files

    (tmp_path / "sub").mkdir()
    for path in (tmp_path / "top.py", tmp_path / "sub" / "nested.py"):
        path.write_text("from tandem import DAG\n")
    # When it is snapshotted
    snapshot = LocalDagBundle("b", path=tmp_path).snapshot()
    # Then the processor finds each listed file's (mtime, size) there, as a stat gives them
    listed = [str(p) for p in list_dag_files(tmp_path, safe_mode=False)]
    assert sorted(snapshot.stats) == sorted(listed)
    for path in listed:
        info = os.stat(path)
        assert snapshot.stats[path] == (info.st_mtime, info.st_size)
