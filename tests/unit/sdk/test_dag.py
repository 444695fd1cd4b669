from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tandem import DAG, Param, TaskGroup, dag, task
from tandem.exceptions import DagDefinitionError
from tandem.operators import EmptyOperator
from tandem.sdk.dag import DagCollector, collect_dags

HERE = __file__


def _next_line() -> int:
    return sys._getframe(1).f_lineno + 1


def test_context_manager_attaches_tasks(start_date: datetime) -> None:
    with DAG("d", schedule="@daily", start_date=start_date) as d:
        a = EmptyOperator(task_id="a")
    outside = EmptyOperator(task_id="b")
    assert a.dag is d and outside.dag is None
    assert d.task_dict == {"a": a} and d.get_task("a") is a and d.tasks == [a]
    with pytest.raises(KeyError, match="no task 'zz'"):
        d.get_task("zz")


def test_fileloc_and_definition_lineno() -> None:
    line = _next_line()
    d = DAG("d")
    assert d.fileloc == HERE
    assert d.definition_lineno == line


def test_naive_start_date_is_utc_and_timezone_comes_from_start_date() -> None:
    naive = DAG("a", schedule="@daily", start_date=datetime(2024, 1, 1))
    assert naive.start_date == datetime(2024, 1, 1, tzinfo=UTC)
    assert naive.timezone_name == "UTC"
    local = DAG("b", schedule="@daily", start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam")))
    assert local.timezone_name == "Europe/Amsterdam"
    explicit = DAG("c", schedule="@daily", start_date=datetime(2024, 1, 1), timezone="America/New_York")
    assert explicit.start_date.utcoffset() == timedelta(hours=-5)


def test_start_date_may_come_from_default_args() -> None:
    d = DAG("d", schedule="@hourly", default_args={"start_date": datetime(2024, 1, 1)})
    assert d.start_date == datetime(2024, 1, 1, tzinfo=UTC)


def test_cycle_is_reported_with_file_line_and_path() -> None:
    line = _next_line()
    with DAG("cyc") as d:
        a, b, c = (EmptyOperator(task_id=n) for n in "abc")
        a >> b >> c >> a
    with pytest.raises(DagDefinitionError) as err:
        d.validate()
    assert str(err.value) == f"{HERE}:{line}: DAG 'cyc': cycle detected: a -> b -> c -> a"
    with pytest.raises(DagDefinitionError, match="cycle"):
        d.topological_sort()


def test_self_loop_is_a_cycle() -> None:
    with DAG("d") as d:
        a = EmptyOperator(task_id="a")
        a >> a
    with pytest.raises(DagDefinitionError, match="cycle detected: a -> a"):
        d.validate()


def test_duplicate_task_id_raises_at_second_task() -> None:
    with DAG("dup"):
        EmptyOperator(task_id="same")
        with pytest.raises(DagDefinitionError) as err:
            line = _next_line()
            EmptyOperator(task_id="same")
    assert str(err.value) == f"{HERE}:{line}: DAG 'dup': duplicate task_id 'same'"


def test_same_task_id_in_different_groups_is_fine() -> None:
    with DAG("d") as d:
        with TaskGroup("g1"):
            EmptyOperator(task_id="t")
        with TaskGroup("g2"):
            EmptyOperator(task_id="t")
    assert set(d.task_dict) == {"g1.t", "g2.t"}


@pytest.mark.parametrize("schedule", ["not a cron", "61 * * * *", "@fortnightly", "* * * * * *", 5])
def test_unparsable_schedule(schedule: object) -> None:
    with pytest.raises(DagDefinitionError) as err:
        line = _next_line()
        DAG("bad", schedule=schedule, start_date=datetime(2024, 1, 1))  # type: ignore[arg-type]
    assert str(err.value).startswith(f"{HERE}:{line}: DAG 'bad': unparsable schedule")


@pytest.mark.parametrize(
    "schedule",
    ["*/5 * * * *", "@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", timedelta(minutes=5)],
)
def test_valid_schedules(schedule: object) -> None:
    DAG("ok", schedule=schedule, start_date=datetime(2024, 1, 1))  # type: ignore[arg-type]


def test_scheduled_dag_requires_start_date() -> None:
    with pytest.raises(DagDefinitionError, match="start_date is required"):
        DAG("d", schedule="@daily")
    DAG("manual", schedule=None)


@pytest.mark.parametrize("bad", ["has space", "slash/y", "ünï", ""])
def test_bad_dag_id(bad: str) -> None:
    with pytest.raises(DagDefinitionError) as err:
        line = _next_line()
        DAG(bad)
    assert str(err.value).startswith(f"{HERE}:{line}: invalid dag_id")


def test_bad_task_id_names_dag_and_line() -> None:
    with DAG("d"):
        with pytest.raises(DagDefinitionError) as err:
            line = _next_line()
            EmptyOperator(task_id="a b")
    assert str(err.value).startswith(f"{HERE}:{line}: DAG 'd': invalid task_id 'a b'")


def test_end_date_before_start_date() -> None:
    with pytest.raises(DagDefinitionError, match="end_date is before start_date"):
        DAG("d", schedule="@daily", start_date=datetime(2024, 2, 1), end_date=datetime(2024, 1, 1))


def test_invalid_param_default_fails_validation() -> None:
    d = DAG("d", params={"n": Param("x", type="integer")})
    with pytest.raises(DagDefinitionError, match="Invalid value for param 'n'"):
        d.validate()


def test_nested_task_groups_prefix_ids() -> None:
    with DAG("d") as d:
        with TaskGroup("outer", tooltip="o") as outer:
            with TaskGroup("inner") as inner:
                t = EmptyOperator(task_id="t")
            with TaskGroup("flat", prefix_group_id=False):
                u = EmptyOperator(task_id="u")
    assert inner.group_id == "outer.inner" and t.task_id == "outer.inner.t"
    assert u.task_id == "outer.u"
    assert t.task_group is inner and inner.parent_group is outer and outer.parent_group is d.task_group
    assert d.task_group.is_root


def test_duplicate_group_id_is_rejected() -> None:
    with DAG("d"):
        TaskGroup("g")
        with pytest.raises(DagDefinitionError, match="duplicate group id 'g'"):
            TaskGroup("g")


def test_dag_decorator_builds_dag_with_params(start_date: datetime) -> None:
    @dag(schedule="@daily", start_date=start_date, tags=["x"])
    def pipeline(limit: int = 10, mode: Param = Param("fast", enum=["fast", "slow"])) -> None:
        """Docs of the pipeline."""

        @task
        def show(value: int) -> int:
            return value

        show(limit)

    line = _next_line()
    built = pipeline()
    assert isinstance(built, DAG) and built.dag_id == "pipeline"
    assert built.fileloc == HERE and built.definition_lineno == line
    assert built.doc_md == "Docs of the pipeline." and built.tags == ["x"]
    assert built.params["limit"] == 10 and built.params["mode"] == "fast"
    assert built.params.get_param("mode").schema == {"enum": ["fast", "slow"]}
    assert list(built.task_dict) == ["show"]
    # Values given at call time become the param defaults.
    assert pipeline(limit=3).params["limit"] == 3


def test_dag_decorator_param_resolves_at_run_time() -> None:
    from .sdk_stubs import run_task

    @dag(dag_id="custom")
    def pipeline(limit: int = 10) -> None:
        @task
        def double(value: int) -> int:
            return value * 2

        double(limit)

    built = pipeline()
    assert built.dag_id == "custom"
    assert run_task(built, "double")[1] == 20
    assert run_task(built, "double", conf={"limit": 4})[1] == 8


def test_collector_records_created_dags_and_collect_dags_merges_globals() -> None:
    source = """
from tandem import DAG, dag, task
from tandem.operators import EmptyOperator

assigned = DAG("assigned")

with DAG("context_only"):
    EmptyOperator(task_id="t")

@dag()
def decorated():
    EmptyOperator(task_id="t")

decorated()
"""
    namespace: dict[str, object] = {"__file__": "/dags/example.py"}
    with DagCollector() as collector:
        exec(compile(source, "/dags/example.py", "exec"), namespace)
        inside = collect_dags(namespace)
    ids = [d.dag_id for d in collector.dags]
    assert ids == ["assigned", "context_only", "decorated"]
    assert [d.dag_id for d in inside] == ["assigned", "context_only", "decorated"]
    assert [d.dag_id for d in collector.collect(namespace)] == ids
    assert collector.dags[1].fileloc == "/dags/example.py" and collector.dags[1].definition_lineno == 7
    # Outside a collector only module globals are found.
    assert [d.dag_id for d in collect_dags(namespace)] == ["assigned"]


def test_collect_dags_rejects_duplicate_dag_ids_and_validates() -> None:
    first, second = DAG("same"), DAG("same")
    with pytest.raises(DagDefinitionError, match="duplicate dag_id"):
        collect_dags({"a": first, "b": second})
    with DAG("cyc") as cyclic:
        a = EmptyOperator(task_id="a")
        a >> a
    with pytest.raises(DagDefinitionError, match="cycle"):
        collect_dags({"c": cyclic})
    assert collect_dags({"c": cyclic}, validate=False) == [cyclic]


def test_owner_is_the_sorted_task_owners() -> None:
    with DAG("d", default_args={"owner": "zed"}) as d:
        EmptyOperator(task_id="a")
        EmptyOperator(task_id="b", owner="amy")
    assert d.owner == "amy, zed"
    assert DAG("empty", default_args={"owner": "x"}).owner == "x"
