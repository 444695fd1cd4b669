from __future__ import annotations

from pathlib import Path

import pytest

from tandem.config import get_settings
from tandem.dag_processing.discovery import (
    EXAMPLE_DAGS_FOLDER,
    compile_rule,
    dag_folders,
    list_all_dag_files,
    list_dag_files,
)

DAG_TEXT = "from tandem import DAG\n"


def _touch(folder: Path, rel: str, text: str = DAG_TEXT) -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path.resolve()


def _names(files: list[Path], folder: Path) -> list[str]:
    return [f.relative_to(folder.resolve()).as_posix() for f in files]


def test_lists_python_files_and_skips_hidden_and_cache(tmp_path: Path) -> None:
    for rel in ["a.py", "sub/b.py", "__pycache__/c.py", ".hidden/d.py", ".e.py", "notes.txt", "sub/deep/f.py"]:
        _touch(tmp_path, rel)

    assert _names(list_dag_files(tmp_path), tmp_path) == ["a.py", "sub/b.py", "sub/deep/f.py"]


def test_safe_mode_needs_both_words(tmp_path: Path) -> None:
    _touch(tmp_path, "dag_only.py", "# a DAG helper\n")
    _touch(tmp_path, "tandem_only.py", "import tandem\n")
    _touch(tmp_path, "both.py", "# TANDEM Dag\n")

    assert _names(list_dag_files(tmp_path), tmp_path) == ["both.py"]
    assert len(list_dag_files(tmp_path, safe_mode=False)) == 3


def test_tandemignore_patterns(tmp_path: Path) -> None:
    # Given files and two ignore files (the inner one relative to its own folder)
    for rel in ["keep.py", "skip_me.py", "x_wip.py", "keep_wip.py", "top_only.py", "sub/top_only.py",
                "build/a.py", "sub/build.py", "sub/inner.py", "sub/deeper/inner.py", "sub/sub2/deep.py",
                "other/deep.py"]:
        _touch(tmp_path, rel)
    (tmp_path / ".tandemignore").write_text(
        "# comment\n\nskip_me.py\n*_wip.py\n!keep_wip.py\n/top_only.py\nbuild/\nsub/**/deep.py\n"
    )
    (tmp_path / "sub" / ".tandemignore").write_text("/inner.py\n")

    # When
    found = _names(list_dag_files(tmp_path), tmp_path)

    # Then
    assert found == ["keep.py", "keep_wip.py", "other/deep.py", "sub/build.py", "sub/deeper/inner.py",
                     "sub/top_only.py"]


def test_ignored_folder_is_not_entered_even_if_reincluded_inside(tmp_path: Path) -> None:
    _touch(tmp_path, "vendor/lib.py")
    (tmp_path / "vendor" / ".tandemignore").write_text("!lib.py\n")
    (tmp_path / ".tandemignore").write_text("vendor\n")

    assert list_dag_files(tmp_path) == []


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.py", "a/b/c.py", True),
        ("a/*.py", "a/b/c.py", False),
        ("a/**/c.py", "a/b/x/c.py", True),
        ("a/**/c.py", "a/c.py", True),
        ("f?o.py", "foo.py", True),
        ("f[!o]o.py", "foo.py", False),
        ("f[a-z]o.py", "fbo.py", True),
        ("logs/**", "logs/x/y.py", True),
    ],
)
def test_compile_rule(tmp_path: Path, pattern: str, path: str, matches: bool) -> None:
    rule = compile_rule(pattern, tmp_path)
    assert rule is not None
    assert rule.matches(tmp_path / path, is_dir=False) is matches


def test_example_dags_included_when_load_examples(tandem_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    assert dag_folders(settings) == [settings.dags_folder]
    monkeypatch.setattr(settings.core, "load_examples", True)

    assert dag_folders(settings) == [settings.dags_folder, EXAMPLE_DAGS_FOLDER]
    assert EXAMPLE_DAGS_FOLDER.name == "example_dags" and EXAMPLE_DAGS_FOLDER.is_dir()
    assert set(list_dag_files(EXAMPLE_DAGS_FOLDER)) <= set(list_all_dag_files(settings))


def test_safe_mode_finds_airflow_dag_files(tmp_path: Path) -> None:
    _touch(tmp_path, "airflow_dag.py", "from airflow.sdk import DAG\n")
    _touch(tmp_path, "airflow_helper.py", "from airflow.hooks.base import BaseHook\n")

    assert _names(list_dag_files(tmp_path), tmp_path) == ["airflow_dag.py"]
