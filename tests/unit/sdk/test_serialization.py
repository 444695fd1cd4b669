from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tandem.exceptions import DagDefinitionError
from tandem.sdk.dag import DAG, DagCollector
from tandem.sdk.serialization import SerializedDag, dag_hash, serialize_dag
from tandem.sdk.timetables import CronTimetable

DAG_SOURCE = """
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from tandem import DAG, Param, TaskGroup, task
from tandem.operators import BashOperator, BranchPythonOperator, EmptyOperator, ShortCircuitOperator

def notify(context):
    pass

with DAG(
    "etl",
    schedule="0 3 * * *",
    start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam")),
    end_date=datetime(2025, 1, 1),
    catchup=True,
    max_active_runs=2,
    max_active_tasks=8,
    default_args={"owner": "data", "retries": 2, "retry_delay": timedelta(minutes=1)},
    params={"limit": Param(10, type="integer", minimum=1, description="max rows")},
    tags=["b", "a"],
    description="ETL",
    dagrun_timeout=timedelta(hours=1),
    doc_md="# ETL",
    on_failure_callback=notify,
) as dag:
    start = EmptyOperator(task_id="start")
    branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "g.extract")
    gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: True,
                                ignore_downstream_trigger_rules=False, on_retry_callback=[notify])
    with TaskGroup("g", tooltip="extraction") as group:
        @task(execution_timeout=timedelta(minutes=5), retry_exponential_backoff=True,
              max_retry_delay=timedelta(minutes=10), pool="db", pool_slots=2, queue="io")
        def extract() -> list:
            return [1, 2]

        @task(trigger_rule="all_done", doc_md="loads")
        def load(x):
            return x

        load.expand(x=extract())
    bash = BashOperator(task_id="bash", bash_command="echo {{ ds }}", depends_on_past=True,
                        on_success_callback=notify, weight_rule="absolute", priority_weight=7)
    start >> branch >> group >> gate >> bash
"""


def parse(path: Path) -> DAG:
    namespace: dict[str, object] = {}
    with DagCollector() as collector:
        exec(compile(DAG_SOURCE, str(path), "exec"), namespace)
    (dag,) = collector.collect(namespace)
    return dag


@pytest.fixture
def serialized(tmp_path: Path) -> dict:
    return serialize_dag(parse(tmp_path / "etl.py"))


def test_dag_level_fields(serialized: dict, tmp_path: Path) -> None:
    top = {k: v for k, v in serialized.items() if k not in ("tasks", "task_groups", "params")}
    assert top == {
        "dag_id": "etl",
        "fileloc": str(tmp_path / "etl.py"),
        "definition_lineno": 10,
        "description": "ETL",
        "doc_md": "# ETL",
        "tags": ["a", "b"],
        "owner": "data",
        "schedule": {"kind": "cron", "expr": "0 3 * * *", "seconds": None, "summary": "0 3 * * *"},
        "timezone": "Europe/Amsterdam",
        "start_date": "2023-12-31T23:00:00+00:00",
        "end_date": "2024-12-31T23:00:00+00:00",
        "catchup": True,
        "max_active_runs": 2,
        "max_active_tasks": 8,
        "dagrun_timeout": 3600.0,
        "has_on_success_callback": False,
        "has_on_failure_callback": True,
    }
    assert serialized["params"] == {
        "limit": {
            "default": 10,
            "schema": {"type": "integer", "minimum": 1},
            "description": "max rows",
            "has_default": True,
        }
    }
    assert serialized["task_groups"] == {
        "": {
            "group_id": "",
            "parent": None,
            "children": ["bash", "branch", "g", "gate", "start"],
            "tooltip": "",
        },
        "g": {"group_id": "g", "parent": "", "children": ["g.extract", "g.load"], "tooltip": "extraction"},
    }


def test_task_fields(serialized: dict) -> None:
    tasks = {t["task_id"]: t for t in serialized["tasks"]}
    assert [t["task_id"] for t in serialized["tasks"]] == [
        "start",
        "branch",
        "g.extract",
        "g.load",
        "gate",
        "bash",
    ]
    assert tasks["g.extract"] == {
        "task_id": "g.extract",
        "operator": "DecoratedPythonOperator",
        "task_group": "g",
        "upstream": ["branch"],
        "downstream": ["g.load"],
        "trigger_rule": "all_success",
        "retries": 2,
        "retry_delay": 60.0,
        "retry_exponential_backoff": True,
        "max_retry_delay": 600.0,
        "execution_timeout": 300.0,
        "pool": "db",
        "pool_slots": 2,
        "priority_weight": 10,
        "queue": "io",
        "depends_on_past": False,
        "owner": "data",
        "doc_md": None,
        "template_fields": ["templates_dict", "op_args", "op_kwargs"],
        "is_branch": False,
        "is_short_circuit": False,
        "ignore_downstream_trigger_rules": False,
        "has_callbacks": {"success": False, "failure": False, "retry": False},
        "ui_color": "#ffefeb",
        "params": {},
        "is_setup": False,
        "is_teardown": False,
        "on_failure_fail_dagrun": False,
        "max_active_tis_per_dag": None,
        "max_active_tis_per_dagrun": None,
        "mapped": None,
        "mapped_group": None,
    }
    load = tasks["g.load"]
    assert load["mapped"] == {
        "sources": [{"arg": "x", "kind": "xcom", "task_id": "g.extract", "key": "return_value"}]
    }
    assert (load["trigger_rule"], load["doc_md"], load["upstream"], load["downstream"]) == (
        "all_done",
        "loads",
        ["g.extract"],
        ["gate"],
    )
    assert tasks["branch"]["is_branch"] and tasks["branch"]["downstream"] == ["g.extract"]
    assert tasks["gate"]["is_short_circuit"] and tasks["gate"]["ignore_downstream_trigger_rules"] is False
    assert tasks["gate"]["has_callbacks"] == {"success": False, "failure": False, "retry": True}
    assert tasks["bash"]["has_callbacks"]["success"] and tasks["bash"]["depends_on_past"]
    # downstream rule sums own + every downstream weight (bash counts 7 even though it is "absolute")
    assert tasks["bash"]["priority_weight"] == 7 and tasks["start"]["priority_weight"] == 1 + 4 + 7
    assert tasks["bash"]["template_fields"] == ["bash_command", "env", "cwd"]


def test_json_round_trip(serialized: dict) -> None:
    as_json = json.loads(json.dumps(serialized))
    assert as_json == serialized
    view = SerializedDag.from_dict(as_json)
    assert view.to_dict() == serialized
    assert view.get_task("g.load").is_mapped and view.get_task("g.load").upstream == ("g.extract",)
    assert view.start_date == datetime.fromisoformat("2023-12-31T23:00:00+00:00")
    assert isinstance(view.timetable, CronTimetable)
    with pytest.raises(AttributeError):
        view.dag_id = "x"  # type: ignore[misc]


def test_hash_is_stable_across_parses_and_changes_with_content(tmp_path: Path) -> None:
    first = serialize_dag(parse(tmp_path / "etl.py"))
    second = serialize_dag(parse(tmp_path / "etl.py"))
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert dag_hash(first) == dag_hash(second)
    assert len(dag_hash(first)) == 64
    changed = dict(first, max_active_runs=3)
    assert dag_hash(changed) != dag_hash(first)


def test_schedule_kinds(start_date: datetime) -> None:
    def schedule_of(schedule: object) -> dict:
        return serialize_dag(DAG("d", schedule=schedule, start_date=start_date))["schedule"]  # type: ignore[arg-type]

    assert schedule_of(None) == {"kind": "none", "expr": None, "seconds": None, "summary": "None"}
    assert schedule_of("@once") == {"kind": "once", "expr": "@once", "seconds": None, "summary": "@once"}
    assert schedule_of("@daily") == {"kind": "cron", "expr": "@daily", "seconds": None, "summary": "@daily"}
    assert schedule_of(timedelta(minutes=5)) == {
        "kind": "timedelta",
        "expr": None,
        "seconds": 300.0,
        "summary": "every 0:05:00",
    }


def test_serializing_invalid_dag_raises() -> None:
    with DAG("d") as dag:
        from tandem.operators import EmptyOperator

        a = EmptyOperator(task_id="a")
        a >> a
    with pytest.raises(DagDefinitionError, match="cycle"):
        serialize_dag(dag)
    with pytest.raises(DagDefinitionError, match="not JSON-serializable"):
        serialize_dag(DAG("p", params={"when": datetime(2024, 1, 1)}))
