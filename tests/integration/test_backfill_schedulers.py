"""Two schedulers on PostgreSQL never start more of a backfill's runs than its max_active_runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tandem.backfill import BackfillRequest, create_backfill
from tandem.db.session import session_scope
from tandem.models import DagRun, utcnow
from tandem.orchestration.actions import set_dag_run_state
from tandem.scheduler.dagruns import start_queued_runs
from tandem.scheduler.loop import Scheduler
from tandem.state import DagRunState
from tests.fixtures.scheduler import Harness

DAILY = """
with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as d:
    EmptyOperator(task_id="a")
"""


def _running(harness: Harness, backfill_id: int) -> int:
    with session_scope(harness.engine) as session:
        return int(session.execute(sa.select(sa.func.count()).select_from(DagRun).where(
            DagRun.backfill_id == backfill_id, DagRun.state == "running")).scalar_one())


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_schedulers_hold_the_backfill_limit(harness: Harness) -> None:
    # Given a backfill of 12 runs, 3 at a time
    harness.add_dag("daily", DAILY)
    with session_scope(harness.engine) as session:
        backfill_id = create_backfill(session, BackfillRequest(
            "daily", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 12, tzinfo=UTC), max_active_runs=3)).id
    first, second = harness.scheduler(), harness.scheduler()

    # When one scheduler is inside its start pass (locks held, not committed) and the other runs its own
    with session_scope(harness.engine) as a:
        assert start_queued_runs(a, first.dialect, utcnow(), 20) == 3
        with session_scope(harness.engine) as b:
            # Then the second leaves the backfill's runs alone instead of counting on a stale snapshot
            assert start_queued_runs(b, second.dialect, utcnow(), 20) == 0
    with session_scope(harness.engine) as b:
        assert start_queued_runs(b, second.dialect, utcnow(), 20) == 0
    assert _running(harness, backfill_id) == 3

    # And with both starting runs in a tight loop while runs end, the limit holds at every moment
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def loop(scheduler: Scheduler) -> None:
        try:
            while not stop.is_set():
                with session_scope(harness.engine) as session:
                    start_queued_runs(session, scheduler.dialect, utcnow(), 20)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    threads = [threading.Thread(target=loop, args=(s,), daemon=True) for s in (first, second)]
    for t in threads:
        t.start()
    try:
        for _ in range(600):
            seen.append(_running(harness, backfill_id))
            with session_scope(harness.engine) as session:
                left = session.execute(sa.select(sa.func.count()).select_from(DagRun).where(
                    DagRun.backfill_id == backfill_id, DagRun.state != "success")).scalar_one()
            if left == 0 or errors:
                break
            # Runs end one by one while both schedulers keep trying to start more.
            with session_scope(harness.engine) as session:
                running = session.execute(sa.select(DagRun.run_id).where(
                    DagRun.backfill_id == backfill_id, DagRun.state == "running").limit(1)).scalar()
                if running is not None:
                    set_dag_run_state(session, "daily", running, DagRunState.SUCCESS)
            stop.wait(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors
    assert left == 0
    assert max(seen) <= 3
