"""Tasks acting on other DAGs' runs: TriggerDagRunOperator and ExternalTaskSensor, through the runner."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.models import DagRun, XCom
from tests.fixtures.scheduler import Harness

DAGS = """
from tandem.sdk.operators.trigger_dagrun import TriggerDagRunOperator
from tandem.sdk.sensors.external_task import ExternalTaskSensor

with DAG("target", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="work")

with DAG("controller", schedule=None, start_date=datetime(2024, 1, 1)):
    TriggerDagRunOperator(task_id="trigger", trigger_dag_id="target", conf={"n": 1},
                          trigger_run_id="from_{{ ds_nodash }}", logical_date="2024-05-01T00:00:00+00:00")
    TriggerDagRunOperator(task_id="again", trigger_dag_id="target", trigger_run_id="from_{{ ds_nodash }}",
                          logical_date="2024-05-02T00:00:00+00:00", skip_when_already_exists=True)

with DAG("watcher", schedule=None, start_date=datetime(2024, 1, 1)):
    ExternalTaskSensor(task_id="wait", external_dag_id="target", external_task_id="work", poke_interval=0.1,
                       timeout=5)
"""


def test_trigger_creates_the_run_once(harness: Harness) -> None:
    harness.add_dag("cross", DAGS)
    scheduler = harness.scheduler()
    run_id = harness.trigger("controller", scheduler, logical_date=datetime(2024, 6, 1, tzinfo=UTC))
    assert harness.drive(scheduler, "controller", run_id) == "success"
    assert harness.states("controller", run_id) == {"trigger": "success", "again": "skipped"}
    with session_scope(harness.engine) as session:
        run = session.execute(sa.select(DagRun).where(DagRun.dag_id == "target")).scalar_one()
        pushed = session.execute(sa.select(XCom.value).where(XCom.task_id == "trigger")).scalar_one()
    assert (run.run_id, run.conf, run.run_type) == ("from_20240601", {"n": 1}, "manual")
    assert pushed == "from_20240601"


def test_external_sensor_sees_the_other_dags_task_at_the_same_logical_date(harness: Harness) -> None:
    harness.add_dag("cross", DAGS)
    scheduler = harness.scheduler()
    when = datetime(2024, 6, 1, tzinfo=UTC)
    target_run = harness.trigger("target", scheduler, logical_date=when)
    assert harness.drive(scheduler, "target", target_run) == "success"
    watcher_run = harness.trigger("watcher", scheduler, logical_date=when)
    assert harness.drive(scheduler, "watcher", watcher_run) == "success"


def test_the_context_knows_the_previous_successful_run(harness: Harness) -> None:
    harness.add_dag("prev", """
with DAG("prev", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def check(prev_data_interval_start_success=None, prev_start_date_success=None, dag_run=None):
        if dag_run.run_id == "first":
            assert prev_start_date_success is None
        else:
            assert prev_data_interval_start_success.year == 2024, prev_data_interval_start_success
            assert prev_start_date_success is not None
    check()
""")
    scheduler = harness.scheduler()
    first = harness.trigger("prev", scheduler, run_id="first", logical_date=datetime(2024, 6, 1, tzinfo=UTC))
    assert harness.drive(scheduler, "prev", first) == "success"
    second = harness.trigger("prev", scheduler, run_id="second", logical_date=datetime(2024, 6, 2, tzinfo=UTC))
    assert harness.drive(scheduler, "prev", second) == "success"


def test_xcom_pull_from_prior_runs_and_operator_logs(harness: Harness) -> None:
    harness.add_dag("prior", """
import logging

class Logs(BaseOperator):
    def execute(self, context):
        self.log.info("from self.log")
        context["ti"].log.info("from ti.log")
        return "pushed in first" if context["dag_run"].run_id == "first" else None

with DAG("prior", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def previous(ti=None, dag_run=None):
        before = ti.xcom_pull(task_ids="logs", include_prior_dates=True)
        assert before == "pushed in first", before  # this run's value, else the latest earlier one
    Logs(task_id="logs") >> previous()
""")
    scheduler = harness.scheduler()
    first = harness.trigger("prior", scheduler, run_id="first", logical_date=datetime(2024, 6, 1, tzinfo=UTC))
    assert harness.drive(scheduler, "prior", first) == "success"
    second = harness.trigger("prior", scheduler, run_id="second", logical_date=datetime(2024, 6, 2, tzinfo=UTC))
    assert harness.drive(scheduler, "prior", second) == "success"


def test_max_active_tis_per_dag_and_per_dagrun_limit_queuing(harness: Harness) -> None:
    from tandem.executors.stub import StubExecutor

    harness.add_dag("limits", """
with DAG("limits", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator.partial(task_id="per_dag", max_active_tis_per_dag=2).expand(doc_md=["a", "b", "c"])
    EmptyOperator.partial(task_id="per_run", max_active_tis_per_dagrun=1).expand(doc_md=["a", "b", "c"])
""")
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    first = harness.trigger("limits", scheduler, run_id="r1", logical_date=datetime(2024, 6, 1, tzinfo=UTC))
    second = harness.trigger("limits", scheduler, run_id="r2", logical_date=datetime(2024, 6, 2, tzinfo=UTC))
    for _ in range(4):
        scheduler.run_once()
    queued = [(w.task_id, w.run_id) for w in executor.submitted]
    assert sum(t == "per_dag" for t, _ in queued) == 2  # across both runs
    assert sorted(r for t, r in queued if t == "per_run") == [first, second]  # one in each run
