"""Fixtures for in-process CLI tests: a fresh TANDEM_HOME per test and a runner for ``main``."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tandem.cli.main import main
from tandem.config import reset_settings
from tandem.db.engine import dispose_engines, get_engine
from tandem.db.session import session_scope
from tandem.models import DagRun, TaskInstance


@dataclass
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def dags_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty DAG folder under a fresh TANDEM_HOME, without example DAGs."""
    home = tmp_path / "home"
    folder = tmp_path / "dags"
    folder.mkdir()
    monkeypatch.setenv("TANDEM_HOME", str(home))
    monkeypatch.delenv("TANDEM_CONFIG", raising=False)
    monkeypatch.setenv("TANDEM__CORE__LOAD_EXAMPLES", "false")
    monkeypatch.setenv("TANDEM__CORE__DAGS_FOLDER", str(folder))
    monkeypatch.setenv("TANDEM__CORE__DAG_FILE_PROCESSOR_TIMEOUT", "10")
    reset_settings()
    dispose_engines()
    yield folder
    dispose_engines()
    reset_settings()


@pytest.fixture
def cli(dags_folder: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``tandem ARGS...`` in this process; return its exit code, stdout and stderr."""

    def run(*args: str) -> Result:
        capsys.readouterr()  # drop output of earlier calls
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def engine(cli: Cli) -> Engine:
    """The home's DB with the schema in place (the first command creates home and schema)."""
    assert cli("db", "migrate").code == 0
    return get_engine()


def write_dag(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body).lstrip())
    return path


CHAIN_DAG = """
    from datetime import datetime
    from tandem import DAG, Param
    from tandem.sdk.operators import BashOperator, EmptyOperator

    with DAG("chain", schedule="@daily", start_date=datetime(2024, 1, 1), tags=["demo"],
             params={"n": Param(1, type="integer")}) as dag:
        first = EmptyOperator(task_id="first")
        echo = BashOperator(task_id="echo", bash_command="echo hello", retries=2, pool="p1")
        last = EmptyOperator(task_id="last")
        first >> echo >> last
"""

FAILING_DAG = """
    from datetime import datetime
    from tandem import DAG
    from tandem.sdk.operators import BashOperator

    with DAG("failing", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
        BashOperator(task_id="boom", bash_command="exit 1")
"""

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def add_run(engine: Engine, dag_id: str, run_id: str, *, state: str = "running",
            tis: dict[str, tuple[str, int]] | None = None, logical_date: datetime = T0,
            pool: str = "default_pool") -> None:
    """Insert a DAG run and its task instances (task_id -> (state, try_number)) directly."""
    with session_scope(engine) as session:
        session.add(DagRun(dag_id=dag_id, run_id=run_id, logical_date=logical_date, run_after=logical_date,
                           run_type="manual", state=state, start_date=logical_date, conf={}))
        session.flush()
        for task_id, (ti_state, try_number) in (tis or {}).items():
            started = logical_date if try_number else None
            session.add(TaskInstance(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=-1,
                                     state=ti_state, try_number=try_number, start_date=started,
                                     end_date=started, pool=pool, pool_slots=2))
