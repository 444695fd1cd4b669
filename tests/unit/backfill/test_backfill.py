"""Backfills: the dates, what happens to runs already there, and the schedulers' limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tandem.backfill import (
    BackfillError,
    BackfillRequest,
    ReprocessBehavior,
    cancel_backfill,
    complete_finished_backfills,
    create_backfill,
    plan_backfill,
    set_backfill_paused,
)
from tandem.db.session import session_scope
from tandem.models import Backfill, DagModel, DagRun, utcnow
from tandem.orchestration.actions import set_dag_run_state
from tandem.scheduler.dagruns import create_scheduled_runs, start_queued_runs
from tandem.state import DagRunState
from tests.fixtures.scheduler import Harness

DAILY = """
with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as d:
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
"""
MANUAL = """
with DAG("manual", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="a")
"""


def day(n: int) -> datetime:
    return datetime(2024, 1, n, tzinfo=UTC)


def request(**kwargs: object) -> BackfillRequest:
    values: dict[str, object] = {"dag_id": "daily", "from_date": day(3), "to_date": day(6)}
    values.update(kwargs)
    return BackfillRequest(**values)  # type: ignore[arg-type]


def runs_of(harness: Harness, backfill_id: int) -> dict[datetime, str]:
    with session_scope(harness.engine) as session:
        return {r.logical_date: r.state for r in session.execute(
            sa.select(DagRun).where(DagRun.backfill_id == backfill_id)).scalars()}


def test_dates_come_from_the_timetable_in_order_or_backwards(harness: Harness) -> None:
    harness.add_dag("daily", DAILY)
    with session_scope(harness.engine) as session:
        forward = plan_backfill(session, request())
        backward = plan_backfill(session, request(run_backwards=True))
        # A from_date off the schedule's grid starts at the next scheduled date.
        aligned = plan_backfill(session, request(from_date=datetime(2024, 1, 2, 7, tzinfo=UTC)))

    assert [p.logical_date for p in forward] == [day(3), day(4), day(5), day(6)]
    assert [(p.data_interval_start, p.data_interval_end) for p in forward][0] == (day(3), day(4))
    assert {p.action for p in forward} == {"create"}
    assert [p.logical_date for p in backward] == [day(6), day(5), day(4), day(3)]
    assert [p.sort_ordinal for p in backward] == [1, 2, 3, 4]
    assert aligned[0].logical_date == day(3)


def test_bad_requests_are_refused_with_the_reason(harness: Harness) -> None:
    harness.add_dag("daily", DAILY)
    harness.add_dag("manual", MANUAL)
    with session_scope(harness.engine) as session:
        with pytest.raises(BackfillError, match="must not be after"):
            plan_backfill(session, request(from_date=day(6), to_date=day(3)))
        with pytest.raises(BackfillError, match="in the future"):
            plan_backfill(session, request(from_date=datetime(2999, 1, 1, tzinfo=UTC),
                                           to_date=datetime(2999, 2, 1, tzinfo=UTC)))
        # As in Airflow: schedule=None has no dates to fill.
        with pytest.raises(ValueError, match="non-periodic schedule"):
            plan_backfill(session, request(dag_id="manual"))
        with pytest.raises(LookupError, match="not found"):
            plan_backfill(session, request(dag_id="nope"))


@pytest.mark.parametrize(("behavior", "expected"), [
    (ReprocessBehavior.NONE, {4: "skip", 5: "skip"}),
    (ReprocessBehavior.FAILED, {4: "skip", 5: "clear"}),
    (ReprocessBehavior.COMPLETED, {4: "clear", 5: "clear"}),
])
def test_reprocess_behaviours(harness: Harness, behavior: ReprocessBehavior, expected: dict[int, str]) -> None:
    # Given a successful run on the 4th and a failed one on the 5th
    harness.add_dag("daily", DAILY)
    scheduler = harness.scheduler()
    for n, state in ((4, DagRunState.SUCCESS), (5, DagRunState.FAILED)):
        run_id = harness.trigger("daily", scheduler, logical_date=day(n), run_id=f"old{n}")
        with session_scope(harness.engine) as session:
            set_dag_run_state(session, "daily", run_id, state)

    # When a backfill over the 3rd..6th is made
    with session_scope(harness.engine) as session:
        plan = {p.logical_date.day: p.action for p in plan_backfill(session, request(reprocess_behavior=behavior))}
        backfill_id = create_backfill(session, request(reprocess_behavior=behavior)).id

    # Then existing runs are kept or run again as the behaviour says, and new dates get runs
    assert plan == {3: "create", 6: "create", **expected}
    runs = runs_of(harness, backfill_id)
    assert sorted(d.day for d in runs) == sorted([3, 6] + [n for n, a in expected.items() if a == "clear"])
    assert set(runs.values()) == {"queued"}
    with session_scope(harness.engine) as session:
        again = session.execute(sa.select(DagRun.run_type).where(DagRun.run_id == "old5")).scalar_one()
    assert again == ("backfill" if expected[5] == "clear" else "manual")


def test_backfill_runs_start_within_max_active_runs_and_complete(harness: Harness) -> None:
    harness.add_dag("daily", DAILY)
    with session_scope(harness.engine) as session:
        backfill_id = create_backfill(session, request(max_active_runs=2, run_backwards=True)).id
        # One active backfill per DAG.
        with pytest.raises(BackfillError, match="already has an active backfill"):
            create_backfill(session, request(from_date=day(1), to_date=day(2)))
    scheduler = harness.scheduler()

    with session_scope(harness.engine) as session:
        started = start_queued_runs(session, scheduler.dialect, utcnow(), 20)
    runs = runs_of(harness, backfill_id)
    assert started == 2
    # Backwards: the latest dates start first.
    assert sorted(d.day for d, s in runs.items() if s == "running") == [5, 6]

    for _ in range(60):
        scheduler.run_once()
        if all(s == "success" for s in runs_of(harness, backfill_id).values()):
            break
    assert set(runs_of(harness, backfill_id).values()) == {"success"}
    with session_scope(harness.engine) as session:
        assert complete_finished_backfills(session, utcnow()) == 1
        assert session.get(Backfill, backfill_id).completed_at is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("db_url", ["sqlite", "mysql"], indirect=True)
def test_pause_holds_runs_and_cancel_fails_the_queued_ones(harness: Harness) -> None:
    harness.add_dag("daily", DAILY)
    scheduler = harness.scheduler()
    with session_scope(harness.engine) as session:
        backfill_id = create_backfill(session, request(max_active_runs=1)).id
    with session_scope(harness.engine) as session:
        set_backfill_paused(session, backfill_id, True)
    with session_scope(harness.engine) as session:
        assert start_queued_runs(session, scheduler.dialect, utcnow(), 20) == 0
        set_backfill_paused(session, backfill_id, False)
    with session_scope(harness.engine) as session:
        assert start_queued_runs(session, scheduler.dialect, utcnow(), 20) == 1

    with session_scope(harness.engine) as session:
        cancel_backfill(session, backfill_id)
    runs = runs_of(harness, backfill_id)
    assert runs == {day(3): "running", day(4): "failed", day(5): "failed", day(6): "failed"}
    with session_scope(harness.engine) as session:
        with pytest.raises(BackfillError, match="cancelled"):
            cancel_backfill(session, backfill_id)
    # The running run finishes.
    run_id = "backfill__" + day(3).isoformat()
    assert harness.drive(scheduler, "daily", run_id) == "success"


def test_recursive_clear_follows_external_task_markers(harness: Harness) -> None:
    from tandem.orchestration.selection import external_clears

    # Given a parent whose marker points at 'c1' of a child, each with a run at the same date
    harness.add_dag("parent", """
from tandem.sdk.sensors.external_task import ExternalTaskMarker
with DAG("parent", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="p") >> ExternalTaskMarker(task_id="mark", external_dag_id="child", external_task_id="c1")
""")
    harness.add_dag("child", """
with DAG("child", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="c0") >> EmptyOperator(task_id="c1") >> EmptyOperator(task_id="c2")
""")
    scheduler = harness.scheduler()
    harness.trigger("parent", scheduler, logical_date=day(9), run_id="p9")
    harness.trigger("child", scheduler, logical_date=day(9), run_id="c9")
    harness.trigger("child", scheduler, logical_date=day(10), run_id="c10")

    # When a clear of the marker is followed recursively
    with session_scope(harness.engine) as session:
        groups = external_clears(session, "parent", ["p9"], {"p", "mark"})
        unmarked = external_clears(session, "parent", ["p9"], {"p"})

    # Then the child's marked task and its downstream at that date are added, nothing else
    assert groups == [("child", ["c9"], {"c1", "c2"})]
    assert unmarked == []


def test_queued_backfill_runs_do_not_hold_back_scheduled_runs(harness: Harness) -> None:
    # Given a DAG allowed one active run, with a backfill's four runs queued
    harness.add_dag("daily", DAILY.replace("catchup=False", "catchup=False, max_active_runs=1"))
    with session_scope(harness.engine) as session:
        session.execute(sa.update(DagModel).where(DagModel.dag_id == "daily").values(is_paused=False))
        backfill_id = create_backfill(session, request()).id
    assert len(runs_of(harness, backfill_id)) == 4
    scheduler = harness.scheduler()

    # When the scheduler creates the DAG's due runs
    with session_scope(harness.engine) as session:
        created = create_scheduled_runs(session, scheduler.dialect, scheduler.cache, utcnow(), 10)

    # Then its next scheduled run is created, as Airflow 3 does
    assert created == 1
    with session_scope(harness.engine) as session:
        types = session.execute(sa.select(DagRun.run_type).where(DagRun.dag_id == "daily")).scalars().all()
    assert sorted(types) == ["backfill"] * 4 + ["scheduled"]
