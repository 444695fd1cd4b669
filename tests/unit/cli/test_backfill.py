from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine

from .conftest import CHAIN_DAG, FAILING_DAG, Cli, write_dag


def test_create_list_pause_cancel(cli: Cli, engine: Engine, dags_folder: Path) -> None:
    # Given a daily DAG
    write_dag(dags_folder, "chain.py", CHAIN_DAG)
    assert cli("dags", "list").code == 0  # parses the folder

    # When a backfill is previewed, then made
    preview = cli("backfill", "create", "--dag-id", "chain", "--from-date", "2024-03-01", "--to-date",
                  "2024-03-03", "--run-backwards", "--dry-run", "-o", "json")
    made = cli("backfill", "create", "--dag-id", "chain", "--from-date", "2024-03-01", "--to-date", "2024-03-03",
               "--max-active-runs", "2", "-o", "json")

    # Then the preview lists the dates latest first and the backfill has a queued run per date
    assert preview.code == 0, preview.err
    assert [r["logical_date"][:10] for r in json.loads(preview.out)] == ["2024-03-03", "2024-03-02", "2024-03-01"]
    assert made.code == 0, made.err
    row = json.loads(made.out)[0]
    assert (row["state"], row["queued"], row["max_active_runs"]) == ("running", 3, 2)
    listed = json.loads(cli("backfill", "list", "--active", "-o", "json").out)
    assert [b["id"] for b in listed] == [row["id"]]
    assert cli("backfill", "pause", str(row["id"])).out.strip() == f"Backfill {row['id']} paused."
    assert cli("backfill", "cancel", str(row["id"])).code == 0
    after = json.loads(cli("backfill", "list", "-o", "json").out)[0]
    assert (after["state"], after["failed"], after["queued"]) == ("cancelled", 3, 0)
    assert json.loads(cli("backfill", "list", "--active", "-o", "json").out) == []


def test_errors_are_one_line(cli: Cli, engine: Engine, dags_folder: Path) -> None:
    write_dag(dags_folder, "chain.py", CHAIN_DAG)
    write_dag(dags_folder, "failing.py", FAILING_DAG)
    assert cli("dags", "list").code == 0  # parses the folder

    backwards = cli("backfill", "create", "--dag-id", "chain", "--from-date", "2024-03-05", "--to-date", "2024-03-01")
    unscheduled = cli("backfill", "create", "--dag-id", "failing", "--from-date", "2024-03-01", "--to-date",
                      "2024-03-02")
    garbage = cli("backfill", "create", "--dag-id", "chain", "--from-date", "March", "--to-date", "2024-03-02")
    missing = cli("backfill", "cancel", "99")

    assert backwards.code == 1 and "must not be after" in backwards.err and "Traceback" not in backwards.err
    assert unscheduled.code == 1 and "non-periodic schedule" in unscheduled.err
    assert garbage.code == 1 and "not an ISO 8601 date" in garbage.err
    assert missing.code == 1 and "backfill 99 not found" in missing.err
