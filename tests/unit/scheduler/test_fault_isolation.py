"""No fault of one DAG, run, task or row stops a scheduler or the work of other DAGs."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.executors.stub import StubExecutor
from tandem.models import DagModel, DagRun, Pool, SerializedDagModel, TaskInstance, utcnow
from tandem.models.queries import set_dag_paused
from tandem.orchestration import TiKey, transition_ti, transition_tis
from tandem.orchestration.actions import clear_task_instances
from tandem.orchestration.rules.retries import MAX_RETRY_DELAY
from tandem.scheduler.critical_section import _move_to_queued, queue_task_instances
from tandem.scheduler.dagruns import start_queued_runs
from tandem.scheduler.maintenance import repair
from tandem.state import TaskInstanceState as S
from tests.fixtures.db import ALL_DATABASES
from tests.fixtures.scheduler import Harness

GOOD = """
with DAG("good", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
"""
POISON = """
with DAG("poison", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
"""


def _corrupt(harness: Harness, dag_id: str, mutate: object) -> None:
    """Rewrite a DAG's serialized form as a node of another version (or a bug) might have."""
    with session_scope(harness.engine) as session:
        row = session.get(SerializedDagModel, dag_id)
        assert row is not None
        data = dict(row.data)
        mutate(data)  # type: ignore[operator]
        row.data = data
        row.dag_hash = "corrupted"


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
@pytest.mark.parametrize("damage", ["no_tasks", "bad_trigger_rule"])
def test_a_run_that_cannot_be_scheduled_is_marked_and_the_others_run(harness: Harness, damage: str) -> None:
    # Given two DAGs, one of whose serialized form a scheduler cannot use
    harness.add_dag("good", GOOD)
    harness.add_dag("poison", POISON)
    scheduler = harness.scheduler()
    poisoned = harness.trigger("poison", scheduler)
    good = harness.trigger("good", scheduler)

    def no_tasks(data: dict) -> None:
        data.pop("tasks")

    def bad_trigger_rule(data: dict) -> None:
        data["tasks"] = [{**t, "trigger_rule": "sometimes"} for t in data["tasks"]]

    _corrupt(harness, "poison", no_tasks if damage == "no_tasks" else bad_trigger_rule)
    scheduler.cache.max_age = 0  # see the new version at once
    # When the scheduler runs its passes
    assert harness.drive(scheduler, "good", good) == "success"
    # Then the poisoned run is marked with the reason and put off, not retried every pass
    with session_scope(harness.engine) as session:
        run = session.execute(sa.select(DagRun).where(DagRun.run_id == poisoned)).scalar_one()
    assert run.state == "running"
    assert run.scheduling_error and run.scheduling_failures >= 1
    assert run.next_scheduling_at is not None and run.next_scheduling_at > utcnow()
    # And once the DAG is readable again (parsed anew), it runs to the end
    harness.add_dag("poison", POISON)
    with session_scope(harness.engine) as session:
        session.execute(sa.update(DagRun).values(next_scheduling_at=None))
    assert harness.drive(scheduler, "poison", poisoned) == "success"
    with session_scope(harness.engine) as session:
        run = session.execute(sa.select(DagRun).where(DagRun.run_id == poisoned)).scalar_one()
    assert (run.scheduling_error, run.scheduling_failures) == (None, 0)


def test_a_zombie_with_a_huge_try_number_neither_overflows_nor_crashes(harness: Harness) -> None:
    harness.add_dag("many", """
with DAG("many", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="t", retries=1000, retry_delay=timedelta(seconds=300),
                  retry_exponential_backoff=True, max_retry_delay=timedelta(days=3650))
""")
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    run_id = harness.trigger("many", scheduler)
    scheduler.run_once()
    assert len(executor.take()) == 1
    key = TiKey("many", run_id, "t", -1)
    old = utcnow() - timedelta(hours=1)
    with session_scope(harness.engine) as session:
        transition_ti(session, key, S.QUEUED, S.RUNNING, try_number=0,
                      values={"try_number": 40, "last_heartbeat": old, "hostname": "gone", "pid": 1})
        session.execute(sa.update(TaskInstance).values(last_heartbeat=old))
    with session_scope(harness.engine) as session:
        stats = repair(session, scheduler.dialect, scheduler.cache, harness.settings, utcnow())
    assert stats.zombies == 1
    ti = harness.tis("many", run_id)[("t", -1)]
    assert ti.state == "up_for_retry"
    assert ti.next_retry_at is not None and ti.next_retry_at <= utcnow() + MAX_RETRY_DELAY


def test_a_candidate_changed_inside_the_critical_section_is_skipped_not_fatal(harness: Harness) -> None:
    harness.add_dag("good", GOOD.replace('EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")',
                                         'EmptyOperator(task_id="a"); EmptyOperator(task_id="b")'))
    scheduler = harness.scheduler(StubExecutor(slots=0))
    run_id = harness.trigger("good", scheduler)
    scheduler.run_once()
    assert set(harness.states("good", run_id).values()) == {"scheduled"}
    with session_scope(harness.engine) as session:
        picked = session.execute(sa.select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id,
                                           TaskInstance.map_index).order_by(TaskInstance.task_id)).all()
        # A user cleared "b" between the candidate query and the update
        transition_tis(session, [TiKey("good", run_id, "b", -1)], S.SCHEDULED, S.NONE)
        moved = _move_to_queued(session, list(picked), scheduler.node_id, utcnow())
    assert [m.task_id for m in moved] == ["a"]
    assert harness.states("good", run_id) == {"a": "queued", "b": "none"}


def test_a_blocked_fan_out_does_not_starve_other_dags(harness: Harness) -> None:
    # Given a wide, high-priority fan-out whose pool is full, and a small DAG behind it
    harness.add_dag("wide", """
with DAG("wide", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=1000) as d:
    for i in range(40):
        EmptyOperator(task_id=f"t{i}", pool="narrow", priority_weight=100)
""")
    harness.add_dag("small", """
with DAG("small", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="only")
""")
    with session_scope(harness.engine) as session:
        session.add(Pool(name="narrow", slots=1, description=""))
    scheduler = harness.scheduler(StubExecutor(slots=0))
    wide = harness.trigger("wide", scheduler)
    small = harness.trigger("small", scheduler)
    scheduler.run_once()
    # When one critical section sees only 10 candidates at a time
    with session_scope(harness.engine) as session:
        workloads = queue_task_instances(session, scheduler.dialect, scheduler.cache, node_id=scheduler.node_id,
                                         executor_slots=100, max_tis=10, now=utcnow())
    # Then the pool's one slot went to the fan-out, and the small DAG was queued too
    assert sorted(w.dag_id for w in workloads) == ["small", "wide"]
    assert harness.states("small", small) == {"only": "queued"}
    assert list(harness.states("wide", wide).values()).count("queued") == 1


def test_a_paused_dags_manual_run_waits_until_it_is_unpaused(harness: Harness) -> None:
    harness.add_dag("good", GOOD)
    scheduler = harness.scheduler()
    with session_scope(harness.engine) as session:
        set_dag_paused(session, "good", True)
    run_id = harness.trigger("good", scheduler)
    for _ in range(3):
        scheduler.run_once()
    assert harness.run_state("good", run_id) == "queued"
    with session_scope(harness.engine) as session:
        set_dag_paused(session, "good", False)
    assert harness.drive(scheduler, "good", run_id) == "success"


def test_a_dag_at_max_active_runs_does_not_starve_the_others(harness: Harness) -> None:
    harness.add_dag("one_at_a_time", """
with DAG("one_at_a_time", schedule=None, start_date=datetime(2024, 1, 1), max_active_runs=1) as d:
    EmptyOperator(task_id="t")
""")
    harness.add_dag("good", GOOD)
    scheduler = harness.scheduler(StubExecutor())
    harness.settings.scheduler.max_dagruns_per_loop = 3
    blocked = [harness.trigger("one_at_a_time", scheduler, logical_date=utcnow() - timedelta(days=d))
               for d in range(5, 0, -1)]
    good = harness.trigger("good", scheduler)
    scheduler.run_once()
    scheduler.run_once()
    states = {r: harness.run_state("one_at_a_time", r) for r in blocked}
    assert list(states.values()).count("running") == 1
    assert harness.run_state("good", good) == "running"


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
def test_queued_timeout_requeues_then_fails_with_the_reason(harness: Harness) -> None:
    harness.add_dag("good", GOOD.replace('task_id="a"', 'task_id="a", retries=0'))
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    run_id = harness.trigger("good", scheduler)
    cfg = harness.settings.scheduler
    now = utcnow()
    for attempt in range(cfg.max_queued_requeues + 1):
        scheduler.run_once(now)
        assert [w.task_id for w in executor.take()] == ["a"], attempt
        now += timedelta(seconds=cfg.queued_timeout + 1)
        with session_scope(harness.engine) as session:  # (the scheduler itself is alive: no node judging)
            repair(session, scheduler.dialect, scheduler.cache, harness.settings, now, judge_nodes=False)
    ti = harness.tis("good", run_id)[("a", -1)]
    assert ti.state == "failed"
    assert "queued for more than" in (ti.failure_reason or "")
    with session_scope(harness.engine) as session:
        assert session.get(DagModel, "good") is not None


@pytest.mark.parametrize("db_url", ["postgres", "mysql"], indirect=True)
def test_a_clear_racing_a_runs_finish_waits_for_it_and_wins(harness: Harness) -> None:
    harness.add_dag("leaf", """
with DAG("leaf", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    BashOperator(task_id="bad", bash_command="exit 1", retries=0)
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("leaf", scheduler)
    assert harness.drive(scheduler, "leaf", run_id) == "failed"
    with session_scope(harness.engine) as session:  # back to the moment before the pass finished it
        session.execute(sa.update(DagRun).values(state="running", end_date=None))
    # Given a scheduler pass holding the run's lock, about to finish it from its snapshot
    done = threading.Event()
    with session_scope(harness.engine) as pass_session:
        pass_session.execute(scheduler.dialect.skip_locked(sa.select(DagRun).where(DagRun.run_id == run_id))).one()

        def clear() -> None:
            with session_scope(harness.engine) as session:
                clear_task_instances(session, "leaf", run_ids=[run_id])
            done.set()

        # When a user clears the run meanwhile
        worker = threading.Thread(target=clear)
        worker.start()
        time.sleep(0.5)
        assert not done.is_set(), "the clear must wait for the pass holding the run"
        pass_session.execute(sa.update(DagRun).where(DagRun.run_id == run_id).values(state="failed"))
    worker.join(15)
    # Then the clear, applied after the pass, is not lost: the run is queued again
    assert done.is_set()
    assert harness.run_state("leaf", run_id) == "queued"
    assert harness.drive(scheduler, "leaf", run_id) == "failed"
    assert harness.tis("leaf", run_id)[("bad", -1)].try_number == 2


@pytest.mark.parametrize("db_url", ["postgres", "mysql"], indirect=True)
def test_two_schedulers_never_start_more_runs_than_max_active_runs(harness: Harness) -> None:
    harness.add_dag("one_at_a_time", """
with DAG("one_at_a_time", schedule=None, start_date=datetime(2024, 1, 1), max_active_runs=1) as d:
    EmptyOperator(task_id="t")
""")
    first, second = harness.scheduler(StubExecutor()), harness.scheduler(StubExecutor())
    for days in (2, 1):
        harness.trigger("one_at_a_time", first, logical_date=utcnow() - timedelta(days=days))
    # Given one scheduler in the middle of starting a run (its transaction still open)
    with session_scope(harness.engine) as a:
        assert start_queued_runs(a, first.dialect, utcnow(), 10) == 1
        # When a peer starts runs at the same moment
        with session_scope(harness.engine) as b:
            started = start_queued_runs(b, second.dialect, utcnow(), 10)
    # Then the peer started none: the DAG's row was locked, and the count is kept cluster-wide
    assert started == 0
    with session_scope(harness.engine) as session:
        states = session.execute(sa.select(DagRun.state).where(DagRun.dag_id == "one_at_a_time")).scalars().all()
        assert sorted(states) == ["queued", "running"]
        assert start_queued_runs(session, second.dialect, utcnow(), 10) == 0


def test_a_dag_whose_next_run_cannot_be_computed_is_marked_and_the_others_get_theirs(harness: Harness) -> None:
    for dag_id in ("daily", "broken"):
        harness.add_dag(dag_id, f"""
with DAG("{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as d:
    EmptyOperator(task_id="t")
""")
    scheduler = harness.scheduler(StubExecutor())
    _corrupt(harness, "broken", lambda data: data.update(schedule={"kind": "cron", "expr": "not a cron"}))
    scheduler.cache.max_age = 0
    scheduler.run_once()
    with session_scope(harness.engine) as session:
        runs = session.execute(sa.select(DagRun.dag_id)).scalars().all()
        broken = session.get(DagModel, "broken")
        assert broken is not None
        assert "creating the next run failed" in (broken.scheduling_error or "")
        assert broken.next_dagrun_create_after is not None and broken.next_dagrun_create_after > utcnow()
    assert runs == ["daily"]
