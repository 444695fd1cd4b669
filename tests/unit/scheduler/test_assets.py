"""Asset-triggered runs: producers' outlet updates start the DAGs scheduled on those assets."""

from __future__ import annotations

import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.models import AssetEvent, DagModel, DagRun
from tests.fixtures.scheduler import Harness

DAGS = """
from tandem.sdk.assets import Asset, AssetOrTimeSchedule, Metadata
A, B = Asset("s3://bucket/a"), Asset("s3://bucket/b")

with DAG("produce_a", schedule=None, start_date=datetime(2024, 1, 1)):
    @task(outlets=[A])
    def write_a():
        yield Metadata(A, {"rows": 3})
    write_a()

with DAG("produce_b", schedule=None, start_date=datetime(2024, 1, 1)):
    @task(outlets=[B])
    def write_b(outlet_events=None):
        outlet_events[B].extra = {"rows": 4}
    write_b()

with DAG("needs_both", schedule=A & B, start_date=datetime(2024, 1, 1)):
    @task
    def read(triggering_asset_events=None):
        assert triggering_asset_events[A][0].extra == {"rows": 3}, triggering_asset_events
        assert triggering_asset_events["s3://bucket/b"][0].source_dag_id == "produce_b"
    read()

with DAG("b_or_daily", schedule=AssetOrTimeSchedule(timetable="@daily", assets=B), start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="noop")

with DAG("needs_either", schedule=A | B, start_date=datetime(2024, 1, 1)):
    @task(inlets=[A])
    def latest(inlet_events=None):
        assert inlet_events[A][-1].extra == {"rows": 3}, inlet_events
        assert inlet_events.for_asset(uri="s3://bucket/a")[-1].source_task_id == "write_a"
    latest()
"""


def _runs(harness: Harness, dag_id: str) -> list[str]:
    with session_scope(harness.engine) as session:
        return list(session.execute(sa.select(DagRun.run_id).where(DagRun.dag_id == dag_id)
                                    .order_by(DagRun.logical_date)).scalars())


def test_outlet_updates_trigger_consumers_once_their_condition_holds(harness: Harness) -> None:
    # Given two producers and two consumers, one needing both assets and one either
    harness.add_dag("assets", DAGS)
    scheduler = harness.scheduler()
    scheduler.run_once()

    # When A is updated
    run_a = harness.trigger("produce_a", scheduler)
    assert harness.drive(scheduler, "produce_a", run_a) == "success"
    scheduler.run_once()

    # Then only the DAG needing either asset runs
    assert len(_runs(harness, "needs_either")) == 1
    assert _runs(harness, "needs_both") == []
    assert not [r for r in _runs(harness, "b_or_daily") if r.startswith("asset_triggered__")]

    # When B is updated too, the DAG needing both runs, and sees both events
    run_b = harness.trigger("produce_b", scheduler)
    assert harness.drive(scheduler, "produce_b", run_b) == "success"
    scheduler.run_once()
    (both,) = _runs(harness, "needs_both")
    assert [r for r in _runs(harness, "b_or_daily") if r.startswith("asset_triggered__")]
    with session_scope(harness.engine) as session:  # the clock part still schedules it
        assert session.get(DagModel, "b_or_daily").next_dagrun is not None
    assert both.startswith("asset_triggered__")
    assert harness.drive(scheduler, "needs_both", both) == "success"
    assert len(_runs(harness, "needs_either")) == 2
    assert all(harness.drive(scheduler, "needs_either", r) == "success" for r in _runs(harness, "needs_either"))

    # And consumed events do not trigger again
    scheduler.run_once()
    assert len(_runs(harness, "needs_both")) == 1
    with session_scope(harness.engine) as session:
        events = session.execute(sa.select(AssetEvent.uri, AssetEvent.extra).order_by(AssetEvent.id)).all()
    assert [tuple(e) for e in events] == [("s3://bucket/a", {"rows": 3}), ("s3://bucket/b", {"rows": 4})]


def test_a_failed_producer_records_no_update(harness: Harness) -> None:
    harness.add_dag("failing_producer", """
from tandem.sdk.assets import Asset
with DAG("failing_producer", schedule=None, start_date=datetime(2024, 1, 1)):
    BashOperator(task_id="w", bash_command="exit 1", outlets=[Asset("s3://bucket/c")])
""")
    scheduler = harness.scheduler()
    run_id = harness.trigger("failing_producer", scheduler)
    assert harness.drive(scheduler, "failing_producer", run_id) == "failed"
    with session_scope(harness.engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(AssetEvent)).scalar_one() == 0
