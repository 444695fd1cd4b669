from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tandem.dag_processing.parser import DagNotFound, iter_parse_files, load_dag, module_name_for, parse_files

from . import dag_files


def _parse_one(path: Path, timeout: float = 5) -> tuple[list[str], str | None]:
    [result] = parse_files([str(path)], timeout=timeout)
    return [d.dag_id for d in result.dags], result.import_error


def test_good_file_yields_serialized_dags(tmp_path: Path) -> None:
    path = dag_files.write_dag_file(tmp_path, "good.py", dag_files.simple_dag("good", extra_task="b"))

    [result] = parse_files([str(path)], timeout=5)

    assert result.import_error is None
    [parsed] = result.dags
    assert parsed.dag_id == "good" and parsed.lineno == 5 and len(parsed.dag_hash) == 64
    assert parsed.data["fileloc"] == str(path)
    assert [t["task_id"] for t in parsed.data["tasks"]] == ["a", "b"]
    assert result.source == path.read_text() and result.size == path.stat().st_size


def test_exception_shows_only_dag_file_frames_and_location(tmp_path: Path) -> None:
    path = dag_files.write_dag_file(tmp_path, "raises.py", dag_files.RAISES)

    dags, error = _parse_one(path)

    assert dags == []
    assert error is not None
    assert error.splitlines()[-1] == f"{path}:3: ValueError: boom at import"
    assert f'File "{path}", line 5, in <module>' in error
    assert "tandem/dag_processing" not in error and "importlib" not in error


def test_syntax_error_names_line(tmp_path: Path) -> None:
    path = dag_files.write_dag_file(tmp_path, "syntax.py", "# tandem dag\nx = (\n")

    _dags, error = _parse_one(path)

    assert error is not None and error.startswith(f"{path}:2: SyntaxError:")


def test_hanging_file_times_out(tmp_path: Path) -> None:
    path = dag_files.write_dag_file(tmp_path, "hangs.py", dag_files.HANGS)

    started = time.monotonic()
    _dags, error = _parse_one(path, timeout=0.5)

    assert error == f"{path}: import timed out after 0.5 s"
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (dag_files.SYS_EXIT, "exited with code 3 during import"),
        (dag_files.OS_EXIT, "exited with code 4 during import"),
        (dag_files.SEGFAULT, "killed by signal SIGSEGV during import"),
    ],
)
def test_exits_and_crashes_become_import_errors(tmp_path: Path, body: str, message: str) -> None:
    path = dag_files.write_dag_file(tmp_path, "exits.py", body)

    _dags, error = _parse_one(path)

    assert error == f"{path}: {message}"


def test_one_invalid_dag_fails_the_whole_file(tmp_path: Path) -> None:
    path = dag_files.write_dag_file(tmp_path, "mixed.py", dag_files.ONE_GOOD_ONE_BAD)

    dags, error = _parse_one(path)

    assert dags == []
    assert error == f"{path}:7: DAG 'broken': cycle detected: a -> b -> a"


def test_parallel_parse_keeps_input_order_and_isolates_files(tmp_path: Path) -> None:
    # Two files with the same stem in different folders must not share a module.
    paths = [
        dag_files.write_dag_file(tmp_path / "one", "dag.py", dag_files.simple_dag("one")),
        dag_files.write_dag_file(tmp_path, "raises.py", dag_files.RAISES),
        dag_files.write_dag_file(tmp_path / "two", "dag.py", dag_files.simple_dag("two")),
    ]

    results = parse_files([str(p) for p in [*paths, paths[0]]], timeout=5, parallelism=4)

    assert [r.fileloc for r in results] == [str(p) for p in [*paths, paths[0]]]
    assert [[d.dag_id for d in r.dags] for r in results] == [["one"], [], ["two"], ["one"]]
    assert module_name_for(str(paths[0])) != module_name_for(str(paths[2]))
    assert module_name_for(str(paths[0])).startswith("unusual_prefix_")


def test_results_come_in_order_as_they_are_ready_and_stopping_leaves_no_child(tmp_path: Path) -> None:
    def sleeping(name: str, seconds: float) -> Path:
        return dag_files.write_dag_file(tmp_path / name, "dag.py",
                                        f"import time\ntime.sleep({seconds})\n" + dag_files.simple_dag(name))

    fast, slow, stuck, last = (dag_files.write_dag_file(tmp_path / "fast", "dag.py", dag_files.simple_dag("fast")),
                               sleeping("slow", 1.5), sleeping("stuck", 60), sleeping("last", 0))
    others = set(_children())  # of earlier tests in this process
    started = time.monotonic()
    results = iter_parse_files([str(fast), str(slow), str(stuck), str(last)], timeout=90, parallelism=2)
    # The first file's result comes while the slow one is still importing
    assert [d.dag_id for d in next(results).dags] == ["fast"] and time.monotonic() - started < 1.2
    # Then the slow one, in input order
    assert [d.dag_id for d in next(results).dags] == ["slow"]
    # A caller that stops early leaves no parse child behind, and does not wait for them
    assert set(_children(running=True)) - others  # "stuck" imports on
    results.close()
    assert not set(_children()) - others and time.monotonic() - started < 10


def _children(*, running: bool = False) -> list[int]:
    """This process's children (zombies too, unless ``running``: not yet collected is left behind)."""
    import psutil

    return [c.pid for c in psutil.Process().children() if not running or c.status() != psutil.STATUS_ZOMBIE]


def test_load_dag_imports_in_process_and_caches_by_mtime(tmp_path: Path) -> None:
    path = dag_files.write_dag_file(tmp_path, "runner.py", dag_files.simple_dag("runner"))

    first = load_dag(str(path), "runner")
    assert first.dag_id == "runner" and load_dag(str(path), "runner") is first

    path.write_text(dag_files.simple_dag("runner", extra_task="b"))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    second = load_dag(str(path), "runner")
    assert second is not first and sorted(second.task_dict) == ["a", "b"]

    with pytest.raises(DagNotFound, match="defines no DAG 'other'"):
        load_dag(str(path), "other")
