"""The XComs a try's arguments pull come from its supervisor: the forked child opens no
connection for them, and sees exactly what a pull from the database gives."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.executors.stub import StubExecutor
from tandem.models import XCom
from tandem.runner.runtime import RuntimeTaskInstance
from tandem.runner.supervisor import run_supervised
from tests.fixtures.scheduler import Harness

PIPELINE = """
def pool_connections():
    from tandem.db.engine import get_engine
    return get_engine().pool.checkedin()

with DAG("pipe", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task
    def produce():
        return [1, 2, 3]

    @task
    def meta():
        return {"factor": 10}

    @task
    def consume(values, again, m):
        values.append("changed")  # must not show through the other argument
        return {"values": values, "again": again, "factor": m["factor"], "connections": pool_connections()}

    @task
    def scale(x, m):
        return {"x": x * m["factor"], "connections": pool_connections()}

    @task
    def total(scaled):
        return {"sum": sum(s["x"] for s in scaled), "connections": pool_connections()}

    numbers, factor = produce(), meta()
    consume(numbers, numbers, factor)
    total(scale.partial(m=factor).expand(x=numbers.map(lambda v: v + 1)))
"""


def _run_all(harness: Harness, dag_id: str) -> str:
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    run_id = harness.trigger(dag_id, scheduler)
    for _ in range(20):
        scheduler.run_once()
        workloads = executor.take()
        if not workloads:
            break
        for workload in workloads:
            assert run_supervised(workload, settings=harness.settings, node_id=scheduler.node_id) == "success"
    return run_id


def _run_pipe(harness: Harness) -> dict[tuple[str, int], Any]:
    """Run the pipeline once (it must succeed); what each task returned, by (task, map index)."""
    harness.add_dag("pipe", PIPELINE)
    run_id = _run_all(harness, "pipe")
    assert harness.run_state("pipe", run_id) == "success"
    with session_scope(harness.engine) as session:
        return {(x.task_id, x.map_index): x.value for x in session.execute(
            sa.select(XCom.task_id, XCom.map_index, XCom.value).where(XCom.run_id == run_id))}


@pytest.mark.parametrize("db_url", ["postgres", "mysql"], indirect=True)
def test_arguments_pulled_from_upstream_xcoms_need_no_connection_in_the_try(harness: Harness) -> None:
    values = _run_pipe(harness)
    # The TaskFlow consumer got its arguments, each an object of its own, without connecting
    assert values[("consume", -1)] == {"values": [1, 2, 3, "changed"], "again": [1, 2, 3], "factor": 10,
                                      "connections": 0}
    # So did every mapped instance (expand over .map(), with a partial argument from an XCom)
    assert [values[("scale", i)] for i in range(3)] == [{"x": x, "connections": 0} for x in (20, 30, 40)]
    # And the task that pulls the mapped task's outputs
    assert values[("total", -1)] == {"sum": 90, "connections": 0}


class _NoDatabase:
    def __call__(self) -> Any:
        raise AssertionError("the pull went to the database")


def _ti(prefetched: dict[tuple[str, str], dict[int, Any]], mapped: set[str] = frozenset()) -> RuntimeTaskInstance:
    return RuntimeTaskInstance(dag_id="d", run_id="r", task_id="me", map_index=1, try_number=1,
                               mapped_tasks=set(mapped), session_factory=_NoDatabase(), prefetched=prefetched)


def test_prefetched_rows_answer_pulls_as_the_database_would() -> None:
    ti = _ti({("up", "return_value"): {-1: [1, 2]}, ("many", "return_value"): {0: "a", 2: "c"},
              ("up", "other"): {-1: None}}, mapped={"many"})
    assert ti.xcom_pull("up") == [1, 2]
    assert ti.xcom_pull("up", key="other", default="d") is None  # a stored None is a value
    assert ti.xcom_pull("many") == ["a", "c"]  # a mapped upstream: its instances' values in order
    assert ti.xcom_pull("many", map_indexes=2) == "c"
    assert ti.xcom_pull("many", map_indexes=[0, 1], default="-") == ["a", "-"]
    assert ti.xcom_pull(["up", "many"]) == [[1, 2], ["a", "c"]]
    # A second pull of the same XCom is an equal object of its own
    first, second = ti.xcom_pull("up"), ti.xcom_pull("up")
    assert first == second and first is not second


def test_what_was_not_prefetched_is_pulled_from_the_database() -> None:
    ti = _ti({("up", "return_value"): {-1: 1}})
    for pull in (lambda: ti.xcom_pull("elsewhere"), lambda: ti.xcom_pull("up", run_id="another"),
                 lambda: ti.xcom_pull("up", include_prior_dates=True), lambda: ti.xcom_pull(["up", "elsewhere"])):
        with pytest.raises(AssertionError, match="went to the database"):
            pull()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_stalled_read_finds_the_claimed_tries_already_running(harness: Harness,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a supervisor whose XCom read stalls (a black-holed connection) right after a claim
    import psutil

    from tandem.runner import supervisor

    running_during_read: list[int] = []
    read = supervisor._prefetch

    def stalled(inputs: Any) -> Any:
        running_during_read.append(len(psutil.Process().children()))
        return read(inputs)

    monkeypatch.setattr(supervisor, "_prefetch", stalled)
    values = _run_pipe(harness)
    # Then each claimed try's child (the only thing that heartbeats it) ran before the read began
    assert running_during_read and all(n >= 1 for n in running_during_read)
    # And still got its arguments from the supervisor
    assert values[("total", -1)] == {"sum": 90, "connections": 0}


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("late", [False, True], ids=["never-sent", "sent-late"])
def test_a_child_not_sent_its_xcoms_in_time_reads_them_itself(harness: Harness, monkeypatch: pytest.MonkeyPatch,
                                                              late: bool) -> None:
    # Given a supervisor whose XCom read outlasts its children's patience (and that either
    # gives up sending, or sends after the child stopped waiting)
    from tandem.runner import child, supervisor

    read = supervisor._prefetch

    def slow(inputs: Any) -> Any:
        time.sleep(0.6)
        return read(inputs)

    monkeypatch.setattr(child, "XCOMS_PATIENCE", 0.2)
    monkeypatch.setattr(supervisor, "XCOMS_PATIENCE", 30.0 if late else 0.2)
    monkeypatch.setattr(supervisor, "_prefetch", slow)
    values = _run_pipe(harness)
    # Then every try read its arguments on its own connection, and the run succeeded as before
    assert values[("consume", -1)] == {"values": [1, 2, 3, "changed"], "again": [1, 2, 3], "factor": 10,
                                      "connections": 1}
    assert values[("total", -1)] == {"sum": 90, "connections": 1}
