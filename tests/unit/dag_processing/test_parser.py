from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tandem.dag_processing.parser import DagNotFound, load_dag, module_name_for, parse_files

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

    results = parse_files([str(p) for p in paths], timeout=5, parallelism=3)

    assert [r.fileloc for r in results] == [str(p) for p in paths]
    assert [[d.dag_id for d in r.dags] for r in results] == [["one"], [], ["two"]]
    assert module_name_for(str(paths[0])) != module_name_for(str(paths[2]))
    assert module_name_for(str(paths[0])).startswith("unusual_prefix_")


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
