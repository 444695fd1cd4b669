"""``tandem db merge``: two SQLite instances that ran a real DAG, merged into one database.

The two source instances are built once per module (each with its own home and fernet key)
and copied for every test; each test merges into a fresh target database.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cli.main import main
from tandem.config import get_settings, reset_settings
from tandem.crypto import decrypt, encrypt
from tandem.db.engine import create_engine, dispose_engines, get_engine
from tandem.db.merge import rows
from tandem.db.migrate import migrate
from tandem.db.session import session_scope
from tandem.models import Connection, DagModel, DagRun, Pool, TaskInstance, TaskTry, Variable, XCom
from tandem.models.user import ApiToken, User
from tandem.models.variable import set_variable
from tests.fixtures.db import create_server_database, drop_server_database

KEY_A = "Jv9kOyBq4mG0n3Zx1YdK8r7sWcT2uVfHhE5aLbNpQjI="
KEY_B = "b0vWZpY1eX2c3R4t5U6i7O8p9A0s1D2f3G4h5J6k7L8="
TARGET_KEY = "q4BRm1TAAQMUYhsAA3bqzZ3jtCPtNSEGUunkr05YDVU="  # the tandem_home fixture's key
D1, D2, D3 = (datetime(2024, 5, d, 12, 0, tzinfo=UTC) for d in (1, 2, 3))
CREATED = datetime(2024, 1, 1, tzinfo=UTC)

DAG_FILE = '''
from datetime import datetime
from tandem import dag, task

@dag(schedule=None, start_date=datetime(2024, 1, 1))
def merge_demo():
    @task
    def make() -> dict:
        return {"n": 2, "tags": ["a", "b"]}

    @task
    def use(v: dict) -> int:
        return v["n"] * 21

    use(make())

merge_demo()
'''


@dataclass(frozen=True)
class Instance:
    url: str
    key: str
    path: Path


# What each instance holds. A and B share identical rows (already present), and conflict on
# run manual__1 (same run_id), run manual__b2 (same logical_date as A's manual__2),
# variable conflict_var, connection conn_conflict, pool p_conflict and user bob.
SPEC: dict[str, dict[str, Any]] = {
    "a": {
        "key": KEY_A,
        "runs": [("manual__1", D1), ("manual__2", D2)],
        "variables": {"shared": "same", "conflict_var": "from a", "only_a": "a"},
        "connections": {"conn_shared": ("h", "same-pw"), "conn_conflict": ("host-a", "pw-a"), "conn_a": ("x", "pa")},
        "pools": {"p_same": 3, "p_conflict": 5},
        "users": {"alice": "alice@example.com", "bob": "bob@a.example"},
    },
    "b": {
        "key": KEY_B,
        "runs": [("manual__1", D1), ("manual__b2", D2), ("manual__3", D3)],
        "variables": {"shared": "same", "conflict_var": "from b", "only_b": "b"},
        "connections": {"conn_shared": ("h", "same-pw"), "conn_conflict": ("host-b", "pw-b"), "conn_b": ("y", "pb")},
        "pools": {"p_same": 3, "p_conflict": 7},
        "users": {"alice": "alice@example.com", "bob": "bob@b.example"},
    },
}
EXPECTED_CONFLICTS = {("dag_run", "merge_demo / manual__1"), ("dag_run", "merge_demo / manual__b2"),
                      ("variable", "conflict_var"), ("connection", "conn_conflict"), ("pool", "p_conflict"),
                      ("tandem_user", "bob")}


def _use_home(mp: pytest.MonkeyPatch, home: Path, dags: Path, url: str, key: str) -> None:
    mp.setenv("TANDEM_HOME", str(home))
    mp.delenv("TANDEM_CONFIG", raising=False)
    mp.setenv("TANDEM__CORE__DAGS_FOLDER", str(dags))
    mp.setenv("TANDEM__CORE__LOAD_EXAMPLES", "false")
    mp.setenv("TANDEM__DATABASE__URL", url)
    mp.setenv("TANDEM__CORE__FERNET_KEY", key)
    reset_settings()
    dispose_engines(close=True)


def _build(root: Path, name: str) -> Instance:
    from tandem.dag_processing.processor import parse_all
    from tandem.scheduler.inprocess import run_dag_inprocess

    spec, dags = SPEC[name], root / "dags"
    dags.mkdir(exist_ok=True)
    (dags / "merge_demo.py").write_text(DAG_FILE)
    path = root / f"{name}.db"
    url = f"sqlite:///{path}"
    with pytest.MonkeyPatch.context() as mp:
        _use_home(mp, root / f"home_{name}", dags, url, spec["key"])
        eng, cfg = get_engine(url), get_settings()
        migrate(eng)
        parse_all(cfg, eng)
        for run_id, date in spec["runs"]:
            state, _ = run_dag_inprocess(eng, cfg, "merge_demo", logical_date=date, run_id=run_id)
            assert state == "success"
        with session_scope(eng) as session:
            for k, v in spec["variables"].items():
                set_variable(session, k, v, description=f"{k} variable")
            session.add(Variable(key=f"plain_{name}", val="not secret", is_encrypted=False))
            for conn_id, (host, password) in spec["connections"].items():
                session.add(Connection(conn_id=conn_id, conn_type="postgres", host=host, port=5432, login="me",
                                       password=encrypt(password, key=spec["key"]),
                                       extra=encrypt(json.dumps({"sslmode": "require"}), key=spec["key"])))
            for pool, slots in spec["pools"].items():
                session.add(Pool(name=pool, slots=slots, description="test pool"))
            for username, email in spec["users"].items():
                session.add(User(username=username, email=email, password_hash=f"hash-{username}",
                                 role="op", active=True, created_at=CREATED))
            session.flush()
            bob = session.execute(sa.select(User).where(User.username == "bob")).scalar_one()
            session.add(ApiToken(user_id=bob.id, token_hash=f"{name:0>64}", prefix=f"tok_{name}",
                                 created_at=CREATED))
        dispose_engines(close=True)
    reset_settings()
    return Instance(url, spec["key"], path)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Instance]:
    root = tmp_path_factory.mktemp("merge_sources")
    return {name: _build(root, name) for name in ("a", "b")}


@pytest.fixture
def sources(built: dict[str, Instance], tmp_path: Path) -> dict[str, Instance]:
    """Private copies, so a test cannot change the next one's sources."""
    out = {}
    for name, inst in built.items():
        copy = tmp_path / inst.path.name
        with sqlite3.connect(inst.path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy(inst.path, copy)
        out[name] = Instance(f"sqlite:///{copy}", inst.key, copy)
    return out


def tandem(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def merge(capsys: pytest.CaptureFixture[str], inst: Instance, *extra: str) -> tuple[int, str, str]:
    return tandem(capsys, "db", "merge", "--from", inst.url, "--from-fernet-key", inst.key, *extra)


# --- reading both sides ---------------------------------------------------------------------

TABLES = (DagRun, TaskInstance, TaskTry, XCom, Variable, Connection, Pool, User, ApiToken)


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every merged table (with ``dag``), as plain dicts."""
    with engine.connect() as conn:
        return {m.__tablename__: [dict(r) for r in conn.execute(sa.select(m.__table__)).mappings()]  # type: ignore[attr-defined]
                for m in (*TABLES, DagModel)}


def plain(row: dict[str, Any], key: str, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row comparable across instances: secrets decrypted, surrogate ids dropped."""
    out = {k: v for k, v in row.items() if k not in ("id", "user_id", *drop)}
    if "conn_type" in row:
        out["password"] = decrypt(row["password"], key=key)
        out["extra"] = decrypt(row["extra"], key=key)
    if "is_encrypted" in row:
        out["val"] = decrypt(row["val"], key=key) if row["is_encrypted"] else row["val"]
    return {k: rows.canonical(v) for k, v in out.items()}


def source_rows(inst: Instance) -> dict[str, list[dict[str, Any]]]:
    eng = create_engine(inst.url)
    try:
        return dump(eng)
    finally:
        eng.dispose()


def assert_all_present(source: dict[str, list[dict[str, Any]]], target: dict[str, list[dict[str, Any]]],
                       key: str, renamed: dict[tuple[str, str], str] | None = None) -> None:
    """Every source row has an identical row in the target (after the given renames)."""
    renamed = renamed or {}
    for table, src in source.items():
        if table == "dag":
            continue
        there = [plain(r, TARGET_KEY) for r in target[table]]
        for row in src:
            want = plain(row, key)
            for field in ("run_id", "key", "conn_id", "name", "username"):
                if field in row and (table, row[field]) in renamed:
                    want[field] = renamed[(table, row[field])]
            if table == "dag_run" and ("dag_run", row["run_id"]) in renamed:
                want["logical_date"] = rows.canonical(row["logical_date"] + timedelta(microseconds=1))
            if table in ("task_instance", "task_try", "xcom") and ("dag_run", row["run_id"]) in renamed:
                want["run_id"] = renamed[("dag_run", row["run_id"])]
            assert want in there, f"{table} row missing from the target: {want}"


def renames(out: str) -> dict[tuple[str, str], str]:
    """(table, old key) -> new key, read from the merge's conflict table."""
    found = {}
    for line in out.splitlines():
        if "imported as" in line:
            table, rest = line.split(None, 1)
            old = rest.split("  ")[0].strip().split(" / ")[-1]
            new = line.split("imported as")[1].split("'")[1]
            found[(table, old)] = new
    return found


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [
    pytest.param("postgres", marks=pytest.mark.postgres),
    "sqlite",
    pytest.param("mysql", marks=pytest.mark.mysql),
], indirect=True)
def test_two_sqlite_instances_merge_row_by_row_and_rerun_imports_nothing(
        sources: dict[str, Instance], target: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # When A is merged, then B with renames
    code_a, out_a, err_a = merge(capsys, sources["a"], "-y")
    code_b, out_b, err_b = merge(capsys, sources["b"], "-y", "--on-conflict", "rename")

    # Then every row of both is here, B's conflicting ones under the announced new keys
    assert code_a == 0, err_a
    assert code_b == 0, err_b
    after = dump(target)
    assert_all_present(source_rows(sources["a"]), after, KEY_A)
    new_keys = renames(out_b)
    assert set(new_keys) == {("dag_run", "manual__1"), ("dag_run", "manual__b2"), ("variable", "conflict_var"),
                             ("connection", "conn_conflict"), ("pool", "p_conflict"), ("tandem_user", "bob")}
    assert new_keys[("variable", "conflict_var")] == "conflict_var__merged"
    assert new_keys[("dag_run", "manual__1")].startswith("manual__1__merged_")
    assert_all_present(source_rows(sources["b"]), after, KEY_B, new_keys)
    # ...connections decrypt with this cluster's key to the passwords they had
    conns = {r["conn_id"]: decrypt(r["password"], key=TARGET_KEY) for r in after["connection"]}
    assert conns["conn_conflict"] == "pw-a" and conns["conn_conflict__merged"] == "pw-b"
    # ...a renamed run moved its logical date by 1 microsecond, and the DAG has a paused placeholder
    assert {(r["run_id"], r["logical_date"]) for r in after["dag_run"]} >= {
        ("manual__1", D1), (new_keys[("dag_run", "manual__1")], D1 + timedelta(microseconds=1))}
    assert [(d["dag_id"], d["is_paused"]) for d in after["dag"]] == [("merge_demo", True)]
    assert "serialized_dag" in out_a and "DAG processor" in out_a
    assert len(after["dag_run"]) == 5 and len(after["task_instance"]) == 10
    # ...the summary table ends the output
    assert out_b.rstrip().splitlines()[-1].split()[0] == "dag"
    assert "imported" in out_b and "already present" in out_b

    # When both merges run again, nothing is imported twice
    again_a = merge(capsys, sources["a"], "-y")
    again_b = merge(capsys, sources["b"], "-y", "--on-conflict", "rename")
    assert again_a[0] == 0 and "Nothing to import" in again_a[1]
    assert again_b[0] == 0 and "Nothing to import" in again_b[1], again_b
    assert dump(target) == after


@pytest.mark.postgres
def test_dry_run_lists_every_conflict_and_writes_nothing(
        sources: dict[str, Instance], target: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert merge(capsys, sources["a"], "-y")[0] == 0
    before = dump(target)

    code, out, err = merge(capsys, sources["b"], "--dry-run")

    assert code == 0, err
    assert dump(target) == before
    section = out.split("Conflicts (")[1].split("\n\n")[0].splitlines()
    assert section[0] == f"{len(EXPECTED_CONFLICTS)}):"
    for table, key in EXPECTED_CONFLICTS:
        assert re.search(rf"^{table}\s+{re.escape(key)}\s", out, re.MULTILINE), (table, key)
    assert "same logical_date" in out and "slots: this side 5, other 7" in out
    assert "pw-b" not in out and "pw-a" not in out  # secrets are never printed
    assert "Dry run, nothing was written" in out


@pytest.mark.postgres
def test_fail_refuses_and_skip_keeps_this_sides_rows(
        sources: dict[str, Instance], target: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert merge(capsys, sources["a"], "-y")[0] == 0
    before = dump(target)

    refused = merge(capsys, sources["b"], "-y")
    assert refused[0] == 1 and "6 conflict(s)" in refused[2] and dump(target) == before

    code, out, err = merge(capsys, sources["b"], "-y", "--on-conflict", "skip")
    assert code == 0, err
    after = dump(target)
    variables = {r["key"]: decrypt(r["val"], key=TARGET_KEY) for r in after["variable"] if r["is_encrypted"]}
    assert variables["conflict_var"] == "from a" and variables["only_b"] == "b"
    assert not any("__merged" in r["run_id"] for r in after["dag_run"])
    assert {r["run_id"] for r in after["dag_run"]} == {"manual__1", "manual__2", "manual__3"}
    assert {r["name"]: r["slots"] for r in after["pool"]}["p_conflict"] == 5
    assert "kept this side's" in out
    # bob was kept as A's, so B's token of bob is not imported either
    assert [t["prefix"] for t in after["api_token"]] == ["tok_a"]


@pytest.mark.postgres
def test_failure_midway_leaves_the_target_unchanged(
        sources: dict[str, Instance], target: Engine, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert merge(capsys, sources["a"], "-y")[0] == 0
    before = dump(target)
    calls = []
    real = rows.insert_rows

    def insert_then_fail(conn: sa.Connection, table: sa.Table, batch: list[dict[str, Any]]) -> None:
        calls.append(table.name)
        if table.name == "task_try":  # after runs, variables, pools... were written
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))
        real(conn, table, batch)

    monkeypatch.setattr(rows, "insert_rows", insert_then_fail)

    code, _, err = merge(capsys, sources["b"], "-y", "--on-conflict", "rename")

    assert code == 1 and "disk full" in err
    assert {"variable", "dag_run", "task_instance"} <= set(calls)
    assert dump(target) == before


@pytest.mark.postgres
def test_wrong_source_key_is_refused_before_writing(
        sources: dict[str, Instance], target: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    before = dump(target)

    wrong = tandem(capsys, "db", "merge", "--from", sources["a"].url, "-y", "--from-fernet-key", KEY_B)
    invalid = tandem(capsys, "db", "merge", "--from", sources["a"].url, "-y", "--from-fernet-key", "nope")

    assert wrong[0] == 1 and "does not decrypt" in wrong[2] and "Traceback" not in wrong[2]
    assert invalid[0] == 1 and "not a valid fernet key" in invalid[2]
    assert dump(target) == before


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_the_other_key_is_asked_for_when_this_key_does_not_open_its_secrets(
        sources: dict[str, Instance], target: Engine, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []

    def prompt(text: str, **kw: Any) -> str:
        asked.append(kw)
        return KEY_A

    monkeypatch.setattr("click.prompt", prompt)

    code, _, err = tandem(capsys, "db", "merge", "--from", sources["a"].url, "-y")

    assert code == 0, err
    assert len(asked) == 1 and asked[0]["hide_input"] is True
    with target.connect() as conn:
        token = conn.execute(sa.select(Connection.password).where(Connection.conn_id == "conn_a")).scalar_one()
    assert token is not None and decrypt(token, key=TARGET_KEY) == "pa"


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_a_source_behind_the_head_revision_is_named(
        sources: dict[str, Instance], target: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(sources["a"].path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")

    code, _, err = merge(capsys, sources["a"], "-y")

    assert code == 1
    assert "the other database (--from)" in err and "at 0001" in err and "tandem db migrate" in err


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_small_batches_give_the_same_merge_and_report_progress(
        sources: dict[str, Instance], target: Engine) -> None:
    from tandem.db.merge import SecretCodec, apply_merge, plan_merge

    source = create_engine(sources["b"].url)
    progress: list[tuple[str, int, int]] = []
    codec = SecretCodec(KEY_B, TARGET_KEY)
    try:
        plan = plan_merge(source, target, "rename", codec, batch_size=2)
        report = apply_merge(source, target, "rename", codec, lambda *a: progress.append(a), batch_size=2)
        again = plan_merge(source, target, "rename", codec, batch_size=2)
    finally:
        source.dispose()

    assert report.counts == plan.counts and report.conflicts == plan.conflicts
    assert report.counts["dag_run"].imported == 3 and report.counts["xcom"].imported == 12
    assert ("dag_run", 2, 3) in progress and ("dag_run", 3, 3) in progress
    assert again.imported == 0
    assert_all_present(source_rows(sources["b"]), dump(target), KEY_B)


@pytest.mark.postgres
@pytest.mark.mysql
def test_a_postgresql_instance_merges_into_mariadb(
        sources: dict[str, Instance], target: Engine, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a PostgreSQL instance holding both SQLite instances
    assert merge(capsys, sources["a"], "-y")[0] == 0
    assert merge(capsys, sources["b"], "-y", "--on-conflict", "rename")[0] == 0
    pg_url = target.url.render_as_string(hide_password=False)
    admin, name, maria_url = create_server_database("mysql")
    try:
        # When a MariaDB cluster with the same fernet key merges it, twice
        monkeypatch.setenv("TANDEM__DATABASE__URL", maria_url)
        reset_settings()
        assert main(["db", "migrate"]) == 0
        first = tandem(capsys, "db", "merge", "--from", pg_url, "-y")
        second = tandem(capsys, "db", "merge", "--from", pg_url, "-y")

        # Then every row made it, and the second merge found everything already present
        assert first[0] == 0, first[2]
        assert second[0] == 0 and "Nothing to import" in second[1], second
        maria = get_engine(maria_url)
        there, here = dump(target), dump(maria)
        for table, src in there.items():
            if table != "dag":
                assert sorted(map(str, (plain(r, TARGET_KEY) for r in src))) == \
                    sorted(map(str, (plain(r, TARGET_KEY) for r in here[table]))), table
    finally:
        dispose_engines(close=True)
        drop_server_database("mysql", admin, name)
