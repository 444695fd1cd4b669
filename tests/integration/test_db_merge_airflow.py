"""``tandem db merge --from <Airflow DB>``: metadata databases written by real Apache Airflow.

tests/fixtures/airflow/airflow3.sql (Airflow 3.3.2) and airflow2.sql (Airflow 2.10.5) come
from ``scripts/airflow-fixtures.sh``, which ran tests/fixtures/airflow/dags under Airflow on
SQLite. Each test loads a dump into a fresh SQLite file and merges it into a fresh target.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tandem.crypto import decrypt
from tests.integration.test_db_merge import TARGET_KEY, dump, tandem

AIRFLOW_KEY = "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="  # scripts/airflow-fixtures.sh
WRONG_KEY = "Jv9kOyBq4mG0n3Zx1YdK8r7sWcT2uVfHhE5aLbNpQjI="
DUMPS = Path(__file__).parents[1] / "fixtures" / "airflow"
# What the fixture DAGs left in each Airflow database (both versions ran the same runs).
IMPORTED = {"dag_run": 4, "task_instance": 14, "task_try": 16, "xcom": 16, "variable": 3, "connection": 2}
BACKENDS = [pytest.param("postgres", marks=pytest.mark.postgres), "sqlite",
            pytest.param("mysql", marks=pytest.mark.mysql)]


def airflow_db(major: int, folder: Path) -> str:
    path = folder / f"airflow{major}.db"
    with sqlite3.connect(path) as conn:
        conn.executescript((DUMPS / f"airflow{major}.sql").read_text())
    return f"sqlite:///{path}"


def merge(capsys: pytest.CaptureFixture[str], url: str, *extra: str, key: str = AIRFLOW_KEY) -> tuple[int, str, str]:
    return tandem(capsys, "db", "merge", "--from", url, "--airflow-fernet-key", key, *extra)


def by_key(table: list[dict[str, Any]], *columns: str) -> dict[Any, dict[str, Any]]:
    return {tuple(r[c] for c in columns) if len(columns) > 1 else r[columns[0]]: r for r in table}


@pytest.mark.parametrize("major", [3, 2])
@pytest.mark.parametrize("target", BACKENDS, indirect=True)
def test_a_real_airflow_database_merges_with_states_tries_xcoms_and_secrets(
        major: int, target: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = airflow_db(major, tmp_path)
    empty = dump(target)

    # When it is dry-run, merged, then merged again
    dry = merge(capsys, url, "--dry-run")
    after_dry = dump(target)
    first = merge(capsys, url, "-y")
    after = dump(target)
    again = merge(capsys, url, "-y")

    # Then the dry run wrote nothing but announced the import
    assert dry[0] == 0, dry[2]
    assert after_dry == empty and "Dry run, nothing was written" in dry[1]
    assert f"Apache Airflow {major}.x" not in dry[1]  # nothing needed converting approximately
    assert first[0] == 0, first[2]
    for table, n in IMPORTED.items():
        assert len(after[table]) == n, table
        assert int(dry[1].split(f"\n{table} ")[1].split()[0]) == n, table
    # ...Airflow's default pool equals Tandem's, its own pool is added
    assert {p["name"]: p["slots"] for p in after["pool"]} == {"default_pool": 128, "af_pool": 3}
    # ...states, try numbers and map indexes as Airflow left them
    runs = {r["dag_id"]: r for r in after["dag_run"]}
    assert {d: r["state"] for d, r in runs.items()} == {"af_success": "success", "af_retries": "failed",
                                                        "af_mapped": "success"}
    assert runs["af_mapped"]["logical_date"] == datetime(2024, 5, 1, tzinfo=UTC)
    tis = by_key(after["task_instance"], "task_id", "map_index")
    assert (tis["always_fails", -1]["state"], tis["always_fails", -1]["try_number"]) == ("failed", 3)
    assert (tis["flaky", -1]["state"], tis["flaky", -1]["try_number"]) == ("success", 2)
    assert (tis["after_failure", -1]["state"], tis["after_failure", -1]["try_number"]) == ("upstream_failed", 0)
    assert {m for t, m in tis if t == "square"} == {0, 1, 2}
    tries = sorted((t["task_id"], t["try_number"], t["state"]) for t in after["task_try"]
                   if t["dag_id"] == "af_retries")
    assert tries == [("always_fails", 1, "failed"), ("always_fails", 2, "failed"), ("always_fails", 3, "failed"),
                     ("flaky", 1, "failed"), ("flaky", 2, "success")]
    # ...XCom values as JSON
    xcoms = {(x["task_id"], x["map_index"], x["key"]): x["value"] for x in after["xcom"] if x["dag_id"] != "af_success"}
    assert [xcoms["square", i, "return_value"] for i in range(3)] == [1, 4, 9]
    assert xcoms["total", -1, "return_value"] == 14 and xcoms["numbers", -1, "return_value"] == [1, 2, 3]
    assert xcoms["flaky", -1, "return_value"] == "second try"
    notes = [x["value"] for x in after["xcom"] if x["key"] == "note"]
    assert notes == [{"tags": ["a", "b"], "ok": True}] * 2
    # ...secrets decrypted with Airflow's key, stored with this cluster's
    variables = {v["key"]: decrypt(v["val"], key=TARGET_KEY) for v in after["variable"]}
    assert variables == {"greeting": "hello", "api_secret": "s3cr3t-value",
                         "settings_json": '{"retries": 3, "tags": ["x"]}'}
    conns = by_key(after["connection"], "conn_id")
    assert decrypt(conns["af_postgres"]["password"], key=TARGET_KEY) == "pg-pass"
    assert json.loads(decrypt(conns["af_postgres"]["extra"], key=TARGET_KEY)) == {"sslmode": "require"}
    assert decrypt(conns["af_http"]["password"], key=TARGET_KEY) == "http-pass"
    assert (conns["af_http"]["host"], conns["af_http"]["port"], conns["af_http"]["extra"]) == ("api.example", 8080, None)
    assert "s3cr3t" not in first[1] and "pg-pass" not in first[1]
    assert "users and roles (ab_*)" in first[1]  # what stays behind is said
    # ...and the second merge found everything already present
    assert again[0] == 0 and "Nothing to import" in again[1], again
    assert dump(target) == after


@pytest.mark.postgres
@pytest.mark.parametrize("target", ["postgres"], indirect=True)
def test_two_airflow_instances_conflict_and_rename_like_tandem_ones(
        target: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given Airflow 3's history merged in
    assert merge(capsys, airflow_db(3, tmp_path), "-y")[0] == 0
    before = dump(target)
    airflow2 = airflow_db(2, tmp_path)

    # When Airflow 2's, with runs of the same DAGs on the same dates, is merged
    refused = merge(capsys, airflow2, "-y")
    renamed = merge(capsys, airflow2, "-y", "--on-conflict", "rename")
    again = merge(capsys, airflow2, "-y", "--on-conflict", "rename")

    # Then the default refuses, rename imports alongside, and a rerun is a no-op
    assert refused[0] == 1 and "5 conflict(s)" in refused[2]
    assert "same logical_date 2024-05-01" in refused[1] and "conn_type: this side 'postgres'" in refused[1]
    assert renamed[0] == 0, renamed[2]
    after = dump(target)
    assert len(after["dag_run"]) == 8 and len(after["task_instance"]) == 28 and len(after["task_try"]) == 32
    assert {c["conn_id"] for c in after["connection"]} == {"af_postgres", "af_http", "af_postgres__merged"}
    assert sum("__merged_" in r["run_id"] for r in after["dag_run"]) == 4
    assert all(before_row in after["dag_run"] for before_row in before["dag_run"])
    assert again[0] == 0 and "Nothing to import" in again[1] and dump(target) == after


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_a_wrong_fernet_key_names_every_secret_it_cannot_open(
        target: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = airflow_db(3, tmp_path)
    before = dump(target)

    wrong = merge(capsys, url, "-y", key=WRONG_KEY)
    invalid = merge(capsys, url, "-y", key="nope")

    assert wrong[0] == 1 and "Traceback" not in wrong[2]
    for secret in ("variable 'api_secret'", "variable 'greeting'", "connection 'af_postgres' password",
                   "connection 'af_postgres' extra", "connection 'af_http' password"):
        assert secret in wrong[2]
    assert "Nothing was written" in wrong[2]
    assert invalid[0] == 1 and "not a valid fernet key" in invalid[2]
    assert dump(target) == before


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_rows_without_a_tandem_form_are_reported_never_dropped_silently(
        target: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an Airflow 2 database with a rescheduled sensor, a pickled object XCom, a pickled
    # plain XCom and a pickled run conf
    url = airflow_db(2, tmp_path)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE task_instance SET state = 'up_for_reschedule' WHERE task_id = 'after_failure'")
        conn.execute("UPDATE dag_run SET conf = ? WHERE dag_id = 'af_mapped'", (pickle.dumps({"limit": 3}),))
        for key, value in (("obj", pickle.dumps(datetime(2024, 1, 1))), ("plain", pickle.dumps({"a": (1, 2)}))):
            conn.execute("INSERT INTO xcom (dag_run_id, task_id, map_index, key, dag_id, run_id, value, timestamp) "
                         "SELECT dag_run_id, task_id, map_index, ?, dag_id, run_id, ?, timestamp FROM xcom "
                         "WHERE task_id = 'total' AND key = 'return_value'", (key, value))

    # When it is merged
    code, out, err = merge(capsys, url, "-y")

    # Then what has no Tandem form is listed with what became of it
    assert code == 0, err
    section = out.split("Not converted exactly from the Apache Airflow 2.x")[1].split("\n\n")[0]
    assert "up_for_reschedule" in section and "imported as 'none'" in section
    assert "af_mapped / manual__2024-05-01T00:00:00+00:00 / total 'obj'" in section
    assert "pickled datetime.datetime" in section and "not imported" in section
    after = dump(target)
    assert len(after["xcom"]) == 17
    assert [x["value"] for x in after["xcom"] if x["key"] == "plain"] == [{"a": [1, 2]}]
    assert by_key(after["dag_run"], "dag_id")["af_mapped"]["conf"] == {"limit": 3}
    assert by_key(after["task_instance"], "task_id", "map_index")["after_failure", -1]["state"] == "none"
    # ...and a second merge imports nothing again
    assert "Nothing to import" in merge(capsys, url, "-y")[1]
