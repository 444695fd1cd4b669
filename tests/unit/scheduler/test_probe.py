"""An idle scheduler asks which parts of its pass have work in one read, and still finds every
kind of work that arrives while it idles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.executors.stub import StubExecutor
from tandem.models import AssetEvent, DagModel, DagRun, TaskInstance, utcnow
from tandem.scheduler.loop import Scheduler
from tests.fixtures.scheduler import Harness

DAGS = """
from tandem.sdk.assets import Asset
A = Asset("s3://bucket/probe")

with DAG("manual", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="only")

with DAG("on_asset", schedule=A, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="only")
"""

ONCE = """
with DAG("once", schedule="@once", start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="only")
"""


@contextmanager
def _statements(harness: Harness) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        verb = statement.split(None, 1)[0].upper()
        if verb != "BEGIN":  # SQLite's own, sent as a statement
            seen.append(verb)

    sa.event.listen(harness.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(harness.engine, "before_cursor_execute", record)


def _idle(scheduler: Scheduler, harness: Harness, executor: StubExecutor) -> list[str]:
    """Passes until one does nothing (what they queue is dropped); the statements of one more
    (probed) pass."""
    for _ in range(10):
        stats = scheduler.run_once()
        if not (stats.created or stats.started or stats.scheduled or stats.queued or stats.finished_runs):
            break
    executor.take()
    with _statements(harness) as seen:
        scheduler.run_once()
    return seen


def _runs(harness: Harness, dag_id: str) -> list[DagRun]:
    with session_scope(harness.engine) as session:
        return list(session.execute(sa.select(DagRun).where(DagRun.dag_id == dag_id)).scalars())


@pytest.mark.parametrize("db_url", ["sqlite", "postgres", "mysql"], indirect=True)
def test_an_idle_pass_is_one_read_and_finds_every_kind_of_new_work(harness: Harness) -> None:
    # Given an idle scheduler
    harness.add_dag("probe", DAGS)
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    # Then an idle pass reads once: no discovery query of its own, no critical section
    assert _idle(scheduler, harness, executor) == ["SELECT"]

    # When a run is triggered, it is started and its task queued by the next pass
    run_id = harness.trigger("manual", scheduler)
    scheduler.run_once()
    assert [w.run_id for w in executor.take()] == [run_id]
    _idle(scheduler, harness, executor)

    # When a DAG whose first run is due appears, the next pass creates that run
    harness.add_dag("once", ONCE)
    scheduler.run_once()
    assert len(_runs(harness, "once")) == 1
    _idle(scheduler, harness, executor)

    # When an asset event arrives, the DAG scheduled on the asset gets its run
    with session_scope(harness.engine) as session:
        session.add(AssetEvent(uri="s3://bucket/probe", extra={}, timestamp=utcnow()))
    scheduler.run_once()
    assert [r.run_type for r in _runs(harness, "on_asset")] == ["asset_triggered"]
    _idle(scheduler, harness, executor)

    # When a peer (or a user's clear) leaves a task instance scheduled, this pass queues it
    with session_scope(harness.engine) as session:
        session.execute(sa.update(TaskInstance).where(TaskInstance.dag_id == "manual").values(state="scheduled"))
        session.execute(sa.update(DagRun).where(DagRun.dag_id == "manual").values(state="running"))
    scheduler.run_once()
    assert [(w.dag_id, w.task_id) for w in executor.take()] == [("manual", "only")]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_an_unpaused_dag_is_found_by_the_next_probed_pass(harness: Harness) -> None:
    # Given an idle scheduler and a paused DAG whose run is due
    harness.add_dag("once", ONCE)
    with session_scope(harness.engine) as session:
        session.execute(sa.update(DagModel).where(DagModel.dag_id == "once").values(is_paused=True))
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    assert _idle(scheduler, harness, executor) == ["SELECT"]
    # When it is unpaused, the next pass creates its run and queues its task
    with session_scope(harness.engine) as session:
        session.execute(sa.update(DagModel).where(DagModel.dag_id == "once").values(is_paused=False))
    scheduler.run_once()
    assert [w.dag_id for w in executor.take()] == ["once"]
