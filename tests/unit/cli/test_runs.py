from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.engine import Engine

from .conftest import T0, Cli, add_run


def test_list_filters_and_orders_newest_first(cli: Cli, engine: Engine) -> None:
    # Given
    add_run(engine, "d1", "old", state="success", logical_date=T0)
    add_run(engine, "d1", "new", state="failed", logical_date=T0 + timedelta(days=1))
    add_run(engine, "d2", "other", state="running", logical_date=T0 + timedelta(days=2))

    # When
    everything = json.loads(cli("runs", "list", "-o", "json").out)
    d1 = json.loads(cli("runs", "list", "-d", "d1", "-o", "json").out)
    failed = json.loads(cli("runs", "list", "--state", "failed", "-o", "json").out)
    limited = json.loads(cli("runs", "list", "--limit", "1", "-o", "json").out)

    # Then
    assert [r["run_id"] for r in everything] == ["other", "new", "old"]
    assert set(everything[0]) == {"dag_id", "run_id", "state", "run_type", "logical_date", "start_date",
                                  "end_date", "scheduling_error"}
    assert everything[0]["logical_date"] == "2024-05-03T12:00:00+00:00"
    assert [r["run_id"] for r in d1] == ["new", "old"]
    assert [r["run_id"] for r in failed] == ["new"] and [r["run_id"] for r in limited] == ["other"]
    assert json.loads(cli("dags", "list-runs", "-d", "d2", "-o", "json").out)[0]["run_id"] == "other"


def test_unknown_state_is_an_error(cli: Cli, engine: Engine) -> None:
    result = cli("runs", "list", "--state", "bogus")
    assert result.code == 1 and "unknown DAG run state 'bogus'" in result.err


def test_empty_table(cli: Cli, engine: Engine) -> None:
    assert cli("runs", "list").out == "No DAG runs found.\n"
