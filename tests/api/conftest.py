"""One real ``tandem api-server`` per database for the whole package, with seeded data.

The server runs as a subprocess (real HTTP, real uvicorn); the tests seed and inspect the same
database in-process. Tests that change things create their own objects, so they do not depend
on each other's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.dag_files import write_dags
from tests.api.server import (
    Api,
    ClosingProcesses,
    apply_environment,
    child_env,
    close_engines,
    environment,
    seed_users,
    start_api_server,
)
from tests.fixtures.db import create_server_database, drop_server_database

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def seed_runs(engine: object, log_folder: Path) -> None:
    """A finished run with a try, a log, and XComs, made through the same functions as the scheduler."""
    from tandem.db.session import session_scope
    from tandem.models import TaskTry, XCom, utcnow
    from tandem.orchestration import TiKey
    from tandem.orchestration.actions import set_task_instance_state
    from tandem.runner.logs import try_log_path
    from tandem.scheduler.dag_data import DagDataCache
    from tandem.scheduler.dagruns import trigger_dag_run
    from tandem.state import TaskInstanceState

    now = utcnow()
    with session_scope(engine) as session:  # type: ignore[arg-type]
        trigger_dag_run(session, DagDataCache(), "api_demo", run_id="seeded", conf={"n": 2}, triggered_by="test")
        key = TiKey("api_demo", "seeded", "numbers", -1)
        set_task_instance_state(session, key, TaskInstanceState.SUCCESS)
        session.add(TaskTry(dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=-1, try_number=1,
                            state="success", start_date=now, end_date=now, hostname="seed-host"))
        session.add(XCom(dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=-1,
                         key="return_value", value=[0, 1], timestamp=now))
    path = try_log_path(log_folder, key, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("line one\n<b>not bold</b>\nline three\n")


@pytest.fixture(scope="package", params=DATABASES)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    from tandem.config import get_settings
    from tandem.dag_processing.processor import parse_all
    from tandem.db.engine import get_engine
    from tandem.db.migrate import migrate

    kind = request.param
    base = tmp_path_factory.mktemp(f"api-{kind}")
    home, dags = base / "home", base / "dags"
    home.mkdir()
    write_dags(dags)
    server_db = create_server_database(kind) if kind != "sqlite" else None
    db_url = server_db[2] if server_db else f"sqlite:///{home / 'tandem.db'}"
    env = environment(home, dags, db_url)
    monkeypatch = pytest.MonkeyPatch()
    processes = ClosingProcesses(base)
    try:
        apply_environment(monkeypatch, env)
        engine = get_engine(db_url)
        migrate(engine)
        parse_all(get_settings(), engine)
        tokens = seed_users(engine)
        seed_runs(engine, get_settings().log_folder)
        close_engines()  # nothing of ours stays pooled while other fixtures reset engines
        url, _ = start_api_server(processes, child_env(env))
        yield Api(url=url, env=env, home=home, tokens=tokens)
    finally:
        processes.cleanup()
        close_engines()
        monkeypatch.undo()
        if server_db:
            drop_server_database(kind, server_db[0], server_db[1])


@pytest.fixture
def admin(api: Api) -> Iterator[object]:
    with api.client("admin") as client:
        yield client
