"""The scheduler, one pass at a time, on every supported database."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.executors.stub import StubExecutor
from tandem.models import DagRun, Pool, TaskTry, utcnow
from tandem.orchestration.actions import clear_task_instances
from tandem.runner.execute import run_workload
from tests.fixtures.db import ALL_DATABASES
from tests.fixtures.scheduler import Harness

CHAIN = """
with DAG("chain", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    a = BashOperator(task_id="a", bash_command="echo a")
    @task
    def b():
        return 41
    @task
    def c(x):
        return x + 1
    a >> c(b())
"""


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
def test_chain_runs_in_order_and_passes_xcoms(harness: Harness) -> None:
    harness.add_dag("chain", CHAIN)
    scheduler = harness.scheduler()
    run_id = harness.trigger("chain", scheduler)

    assert harness.drive(scheduler, "chain", run_id) == "success"

    tis = harness.tis("chain", run_id)
    assert {k[0]: ti.state for k, ti in tis.items()} == {"a": "success", "b": "success", "c": "success"}
    assert tis[("c", -1)].start_date >= tis[("a", -1)].end_date
    assert all(ti.try_number == 1 for ti in tis.values())


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
def test_failure_propagates_and_fails_the_run(harness: Harness) -> None:
    harness.add_dag("fails", """
with DAG("fails", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    bad = BashOperator(task_id="bad", bash_command="exit 1")
    after = EmptyOperator(task_id="after")
    done = EmptyOperator(task_id="done", trigger_rule="all_done")
    bad >> after >> done
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("fails", scheduler)

    assert harness.drive(scheduler, "fails", run_id) == "success"  # the leaf 'done' succeeded
    assert harness.states("fails", run_id) == {"bad": "failed", "after": "upstream_failed", "done": "success"}
    assert "exit code 1" in (harness.tis("fails", run_id)[("bad", -1)].failure_reason or "")


def test_leaf_failure_fails_the_run(harness: Harness) -> None:
    harness.add_dag("leaf", """
with DAG("leaf", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    BashOperator(task_id="ok", bash_command="true") >> BashOperator(task_id="bad", bash_command="exit 2")
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("leaf", scheduler)
    assert harness.drive(scheduler, "leaf", run_id) == "failed"


def test_retry_waits_for_its_delay(harness: Harness) -> None:
    harness.add_dag("flaky", """
with DAG("flaky", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task(retries=1, retry_delay=timedelta(seconds=60))
    def flaky(ti=None):
        if ti.try_number == 1:
            raise RuntimeError("boom")
        return "ok"
    flaky()
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("flaky", scheduler)
    now = utcnow()

    # Given a first try that failed
    assert harness.drive(scheduler, "flaky", run_id, now=now, passes=5) == "running"
    ti = harness.tis("flaky", run_id)[("flaky", -1)]
    assert (ti.state, ti.try_number) == ("up_for_retry", 1)
    assert ti.next_retry_at is not None and ti.next_retry_at > now + timedelta(seconds=59)

    # When the delay has passed, Then the second try runs and succeeds
    assert harness.drive(scheduler, "flaky", run_id, now=now + timedelta(seconds=61)) == "success"
    ti = harness.tis("flaky", run_id)[("flaky", -1)]
    assert (ti.state, ti.try_number) == ("success", 2)


def test_pool_slots_and_priority_limit_queuing(harness: Harness) -> None:
    harness.add_dag("pooled", """
with DAG("pooled", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    for i in range(5):
        EmptyOperator(task_id=f"t{i}", pool="small", priority_weight=i)
    EmptyOperator(task_id="big", pool="small", pool_slots=3, priority_weight=100)
""")
    with session_scope(harness.engine) as session:
        session.add(Pool(name="small", slots=3, description=""))
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    harness.trigger("pooled", scheduler)

    scheduler.run_once()

    # 'big' has the highest priority and takes all three slots.
    assert [w.task_id for w in executor.submitted] == ["big"]


def test_max_active_tasks_limits_queuing(harness: Harness) -> None:
    harness.add_dag("wide", """
with DAG("wide", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=2) as d:
    for i in range(6):
        EmptyOperator(task_id=f"t{i}")
""")
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    harness.trigger("wide", scheduler)
    scheduler.run_once()
    scheduler.run_once()
    assert len(executor.submitted) == 2


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
def test_a_try_is_claimed_once(harness: Harness) -> None:
    harness.add_dag("once", """
with DAG("once", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="only")
""")
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    run_id = harness.trigger("once", scheduler)
    scheduler.run_once()
    [workload] = executor.take()

    # When the same workload is delivered twice
    first = run_workload(workload, node_id="a", redirect_output=False)
    second = run_workload(workload, node_id="b", redirect_output=False)

    # Then only the first runs it
    assert first is not None and first.value == "success"
    assert second is None
    with session_scope(harness.engine) as session:
        tries = session.execute(sa.select(TaskTry).where(TaskTry.run_id == run_id)).scalars().all()
    assert [(t.try_number, t.node_id, t.state) for t in tries] == [(1, "a", "success")]


def test_mapping_over_an_upstream_result(harness: Harness) -> None:
    harness.add_dag("mapped", """
with DAG("mapped", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task
    def items():
        return [1, 2, 3]
    @task
    def square(x):
        return x * x
    @task
    def total(xs):
        return sum(xs)
    total(square.expand(x=items()))
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("mapped", scheduler)
    assert harness.drive(scheduler, "mapped", run_id) == "success"
    assert harness.states("mapped", run_id) == {
        "items": "success", "square[0]": "success", "square[1]": "success", "square[2]": "success",
        "total": "success",
    }


def test_empty_expansion_skips(harness: Harness) -> None:
    harness.add_dag("empty_map", """
with DAG("empty_map", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task
    def items():
        return []
    @task
    def use(x):
        return x
    use.expand(x=items())
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("empty_map", scheduler)
    assert harness.drive(scheduler, "empty_map", run_id) == "success"
    assert harness.states("empty_map", run_id)["use"] == "skipped"


@pytest.mark.parametrize(("returned", "reason"), [
    ("None", "XComForMappingNotPushed: did not push XCom for task mapping"),
    ("'abc'", "UnmappableXComTypePushed: unmappable return type 'str'"),
    ("7", "UnmappableXComTypePushed: unmappable return type 'int'"),
    ("list(range(5))", "UnmappableXComLengthPushed: unmappable return value length: 5 > 4"),
])
def test_a_value_that_cannot_be_mapped_fails_the_task_that_returned_it(
        harness: Harness, returned: str, reason: str) -> None:
    # Given a task mapped over an upstream's return value, and core.max_map_length = 4
    harness.settings.core.max_map_length = 4
    harness.add_dag("unmappable", f"""
with DAG("unmappable", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task
    def items():
        return {returned}
    @task
    def use(x):
        return x
    use.expand(x=items())
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("unmappable", scheduler)
    # Then, as in Airflow, the upstream fails with the reason, and the mapped task does not run
    assert harness.drive(scheduler, "unmappable", run_id) == "failed"
    tis = harness.tis("unmappable", run_id)
    assert (tis[("items", -1)].state, tis[("items", -1)].failure_reason) == ("failed", reason)
    assert harness.states("unmappable", run_id)["use"] == "upstream_failed"


def test_a_value_within_max_map_length_maps_and_a_mapped_instance_is_not_checked(harness: Harness) -> None:
    harness.settings.core.max_map_length = 4
    harness.add_dag("mapped_twice", """
with DAG("mapped_twice", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task
    def items():
        return [1, 2, 3, 4]
    @task
    def spread(x):
        return list(range(10 * x))
    @task
    def count(xs):
        return len(xs)
    count.expand(xs=spread.expand(x=items()))
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("mapped_twice", scheduler)
    assert harness.drive(scheduler, "mapped_twice", run_id) == "success"
    assert list(harness.states("mapped_twice", run_id).values()).count("success") == 9


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
def test_scheduled_runs_are_created_once_with_catchup(harness: Harness) -> None:
    start = (utcnow() - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    harness.add_dag("daily", f"""
with DAG("daily", schedule="@daily", start_date=datetime.fromisoformat("{start.isoformat()}"), catchup=True,
         max_active_runs=10) as d:
    EmptyOperator(task_id="t")
""")
    # Two schedulers take turns, as two processes would.
    first, second = harness.scheduler(StubExecutor()), harness.scheduler(StubExecutor())
    for _ in range(4):
        first.run_once()
        second.run_once()
    with session_scope(harness.engine) as session:
        runs = session.execute(sa.select(DagRun.logical_date, DagRun.run_type)
                               .where(DagRun.dag_id == "daily").order_by(DagRun.logical_date)).all()
    assert [r.logical_date for r in runs] == [start + timedelta(days=i) for i in range(3)]
    assert {r.run_type for r in runs} == {"scheduled"}


def test_dagrun_timeout_fails_the_run(harness: Harness) -> None:
    harness.add_dag("slow", """
with DAG("slow", schedule=None, start_date=datetime(2024, 1, 1), dagrun_timeout=timedelta(minutes=5)) as d:
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
""")
    scheduler = harness.scheduler(StubExecutor())
    run_id = harness.trigger("slow", scheduler)
    scheduler.run_once()
    scheduler.run_once(utcnow() + timedelta(minutes=6))
    assert harness.run_state("slow", run_id) == "failed"
    assert set(harness.states("slow", run_id).values()) == {"skipped"}


def test_clear_runs_tasks_again(harness: Harness) -> None:
    harness.add_dag("chain", CHAIN)
    scheduler = harness.scheduler()
    run_id = harness.trigger("chain", scheduler)
    assert harness.drive(scheduler, "chain", run_id) == "success"

    with session_scope(harness.engine) as session:
        cleared = clear_task_instances(session, "chain", run_ids=[run_id], task_ids={"b", "c"})
    assert {k.task_id for k in cleared} == {"b", "c"}
    assert harness.run_state("chain", run_id) == "queued"

    assert harness.drive(scheduler, "chain", run_id) == "success"
    tis = harness.tis("chain", run_id)
    assert (tis[("b", -1)].try_number, tis[("a", -1)].try_number) == (2, 1)


def test_branching_skips_the_other_path(harness: Harness) -> None:
    harness.add_dag("branchy", """
with DAG("branchy", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task.branch
    def pick():
        return "left"
    left, right = EmptyOperator(task_id="left"), EmptyOperator(task_id="right")
    after_right = EmptyOperator(task_id="after_right")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    pick() >> [left, right]
    right >> after_right
    [left, after_right] >> join
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("branchy", scheduler)
    assert harness.drive(scheduler, "branchy", run_id) == "success"
    assert harness.states("branchy", run_id) == {
        "pick": "success", "left": "success", "right": "skipped", "after_right": "skipped", "join": "success",
    }


def test_dag_callbacks_run_once_the_run_ends(harness: Harness, tmp_path) -> None:
    marker = tmp_path / "callbacks.txt"
    harness.add_dag("with_callbacks", f"""
def note(event):
    def callback(context):
        with open({str(marker)!r}, "a") as f:
            f.write(f"{{event}} {{context['run_id']}} {{context['reason']}}\\n")
    return callback

with DAG("with_callbacks", schedule=None, start_date=datetime(2024, 1, 1),
         on_success_callback=note("success"), on_failure_callback=note("failure")) as d:
    EmptyOperator(task_id="t")
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("with_callbacks", scheduler)
    assert harness.drive(scheduler, "with_callbacks", run_id) == "success"
    deadline = time.monotonic() + 20
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == f"success {run_id} all tasks done\n"
