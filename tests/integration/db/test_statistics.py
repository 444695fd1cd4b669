"""A transaction that inserts many task instances refreshes the planner's statistics."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tandem.executors.stub import StubExecutor
from tests.fixtures.scheduler import Harness

WIDE = """
with DAG("wide", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    for i in range(WIDTH):
        EmptyOperator(task_id=f"t{i}")
"""


def _planner_rows(harness: Harness) -> float:
    with harness.engine.connect() as conn:
        return float(conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'task_instance'"))
                     .scalar_one())


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("width", [1200, 50])
def test_the_planner_counts_a_wide_run_as_soon_as_it_is_created(harness: Harness, width: int) -> None:
    harness.add_dag("wide", WIDE.replace("WIDTH", str(width)))
    scheduler = harness.scheduler(StubExecutor())
    before = _planner_rows(harness)
    harness.trigger("wide", scheduler)
    # A wide run is analyzed at once (a new table counts -1 or 0 rows until it is); a narrow
    # one is left to autovacuum
    after = _planner_rows(harness)
    if width >= 1000:
        assert after >= width > before
    else:
        assert after == before
