"""A git repository as a DAG bundle: a repository made here with dulwich, fetched without network."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import Settings
from tandem.config.dag_processor import BundleConfig
from tandem.dag_processing.bundles.base import BundleError
from tandem.dag_processing.bundles.git import GitDagBundle
from tandem.dag_processing.processor import parse_all
from tandem.db.session import session_scope
from tandem.models import DagBundle, DagModel, SerializedDagModel

porcelain = pytest.importorskip("dulwich.porcelain")

DAG_FILE = """from datetime import datetime
from tandem import DAG
from tandem.operators import EmptyOperator

with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="t")
"""
AUTHOR = b"Test <test@example.com>"


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    porcelain.add(str(repo), paths=[str(repo / rel) for rel in files])
    return porcelain.commit(str(repo), message=message.encode(), author=AUTHOR, committer=AUTHOR).decode()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    with porcelain.init(str(path)) as created:
        created.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
    return path


def test_versions_are_commits_of_the_tracked_branch_or_tag(repo: Path, tmp_path: Path) -> None:
    first = _commit(repo, {"dags/a.py": DAG_FILE.format(dag_id="a"), "README": "x"}, "one")
    porcelain.tag_create(str(repo), "release-1", author=AUTHOR, message=b"r1", annotated=True)
    second = _commit(repo, {"dags/a.py": DAG_FILE.format(dag_id="a2")}, "two")

    branch = GitDagBundle("g", repo_url=str(repo), tracking_ref="main", subdir="dags", home=tmp_path / "h")
    tag = GitDagBundle("t", repo_url=f"file://{repo}", tracking_ref="release-1", home=tmp_path / "h")

    snap = branch.snapshot()
    assert (snap.version, sorted(snap.manifest)) == (second, ["a.py"])
    tagged = tag.snapshot()
    assert (tagged.version, sorted(tagged.manifest)) == (first, ["README", "dags/a.py"])
    branch.after_store(snap)
    assert (branch.root / "a.py").read_text() == DAG_FILE.format(dag_id="a2")


def test_unknown_ref_and_unreachable_repository_are_clear_errors(repo: Path, tmp_path: Path) -> None:
    _commit(repo, {"a.py": "x"}, "one")
    with pytest.raises(BundleError, match=r"bundle 'g': .* has no branch, tag or commit 'nope'"):
        GitDagBundle("g", repo_url=str(repo), tracking_ref="nope", home=tmp_path).snapshot()
    with pytest.raises(BundleError, match=r"bundle 'g': cannot fetch https://\*\*\*@127.0.0.1:9/x.git"):
        GitDagBundle("g", repo_url="https://user:secret@127.0.0.1:9/x.git", home=tmp_path).snapshot()


def test_processor_parses_the_tracked_commit(repo: Path, settings: Settings, engine: Engine) -> None:
    # Given a git bundle tracking main, refreshed on every pass
    first = _commit(repo, {"a.py": DAG_FILE.format(dag_id="from_git")}, "one")
    settings.dag_processor.dag_bundle_config_list = [
        BundleConfig(name="repo", classpath="git", kwargs={"repo_url": str(repo), "refresh_interval": 0})]

    # When it is parsed, then a new commit is pushed and it is parsed again
    parse_all(settings, engine)
    with session_scope(engine) as session:
        before = session.get(SerializedDagModel, "from_git")
        assert before is not None and (before.bundle_name, before.bundle_version) == ("repo", first)
        assert before.data["relative_fileloc"] == "a.py"
    second = _commit(repo, {"b.py": DAG_FILE.format(dag_id="second")}, "two")
    stats = parse_all(settings, engine)

    # Then the bundle's latest version is the new commit and both DAGs record it
    assert stats.dags == 2
    with session_scope(engine) as session:
        assert session.get(DagBundle, "repo").latest_version == second  # type: ignore[union-attr]
        rows = session.execute(sa.select(DagModel.dag_id, DagModel.bundle_version)).all()
    assert sorted(rows) == [("from_git", second), ("second", second)]


def test_an_unreachable_repository_does_not_stop_other_bundles(
    tmp_path: Path, dags_folder: Path, settings: Settings, engine: Engine
) -> None:
    (dags_folder / "local.py").write_text(DAG_FILE.format(dag_id="local_dag"))
    settings.dag_processor.dag_bundle_config_list = [
        BundleConfig(name="gone", classpath="git", kwargs={"repo_url": str(tmp_path / "missing")}),
        BundleConfig(name="here", classpath="local", kwargs={"path": str(dags_folder)}),
    ]
    stats = parse_all(settings, engine)
    assert (stats.bundles, stats.dags) == (2, 1)
    with session_scope(engine) as session:
        assert session.get(DagModel, "local_dag").bundle_name == "here"  # type: ignore[union-attr]
