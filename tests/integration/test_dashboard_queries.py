"""The dashboard's aggregate queries on every supported database."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.api.queries.dashboard import BUCKETS, read_dashboard
from tandem.cluster.nodes import DEAD, register_node
from tandem.db.session import session_scope
from tandem.models import DagModel, DagRun, Node, TaskInstance, utcnow

ALL = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)]


@pytest.mark.parametrize("db_url", ALL, indirect=True)
def test_outcomes_nodes_and_queues_in_aggregate(engine: Engine) -> None:
    # Given runs and tries that ended 2, 32 and 90 minutes ago, two workers and a dead scheduler
    now = utcnow()
    with session_scope(engine) as session:
        session.add(DagModel(dag_id="d", is_paused=False))
        for i, ago in enumerate((2, 32, 90)):
            end = now - timedelta(minutes=ago)
            session.add(DagRun(dag_id="d", run_id=f"r{i}", logical_date=end, run_after=end, run_type="manual",
                               state="failed" if ago == 32 else "success", start_date=end, end_date=end))
            session.flush()
            session.add_all([
                TaskInstance(dag_id="d", run_id=f"r{i}", task_id="ok", state="success", end_date=end),
                TaskInstance(dag_id="d", run_id=f"r{i}", task_id="bad", state="failed" if ago == 32 else "success",
                             end_date=end),
                TaskInstance(dag_id="d", run_id=f"r{i}", task_id="waiting", state="queued", queue="heavy"),
            ])
        for queues in (["default", "heavy"], ["heavy"]):
            register_node(session, "worker", details={"queues": queues, "load": {"running": 1}})
        dead = register_node(session, "scheduler")
        session.execute(sa.update(Node).where(Node.id == dead).values(state=DEAD))

    # When the dashboard reads them
    with session_scope(engine) as session:
        d = read_dashboard(session, now, timeout=30)

    # Then the last hour holds the two recent runs, each in its own five-minute bucket
    tis = d["outcomes"]["task_instances"]
    assert tis["totals"]["success"] == 3 and tis["totals"]["failed"] == 1
    assert tis["buckets"][BUCKETS - 1]["success"] == 2  # 2 minutes ago: the newest bucket
    assert tis["buckets"][BUCKETS - 7] == {**tis["buckets"][BUCKETS - 7], "success": 1, "failed": 1}
    assert d["outcomes"]["dag_runs"]["totals"] == {"success": 1, "failed": 1}
    assert d["recent_failures"][0]["task_id"] == "bad"
    # And queue depth sits beside the workers consuming each queue
    assert d["queues"] == [{"queue": "default", "queued": 0, "workers": 1}, {"queue": "heavy", "queued": 3, "workers": 2}]
    states = sorted((n["role"], n["state"]) for n in d["nodes"])
    assert states == [("scheduler", "dead"), ("worker", "alive"), ("worker", "alive")]
