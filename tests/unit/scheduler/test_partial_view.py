"""A wide run is planned from a partial view (open instances and state counts); every DAG
shape must end exactly as it does when each pass reads the whole run."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tandem.executors.sequential import SequentialExecutor
from tandem.executors.workload import Workload
from tandem.scheduler import scheduling
from tests.fixtures.db import ALL_DATABASES
from tests.fixtures.scheduler import Harness


class LaggingExecutor(SequentialExecutor):
    """Runs what was submitted one pass late, so every pass finds tries queued: the state in
    which the scheduler plans a wide run from a partial view.

    The scheduler asks for open slots once per pass, as it starts: the previous pass's
    workloads run then, before this pass plans.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[Workload] = []

    def open_slots(self) -> int:
        pending, self._pending = self._pending, []
        super().submit(pending)
        return 32

    def submit(self, workloads: Sequence[Workload]) -> None:
        self._pending.extend(workloads)


SHAPES = {
    "rules": """
with DAG("rules", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    ok = EmptyOperator(task_id="ok")
    bad = BashOperator(task_id="bad", bash_command="exit 1")
    after_bad = EmptyOperator(task_id="after_bad")
    rules = ["all_success", "all_failed", "all_done", "one_success", "one_failed", "none_failed",
             "none_failed_min_one_success", "none_skipped", "always", "one_done", "all_skipped"]
    for rule in rules:
        t = EmptyOperator(task_id=f"r_{rule}", trigger_rule=rule)
        [ok, bad] >> t
        t >> EmptyOperator(task_id=f"after_{rule}")
    bad >> after_bad >> EmptyOperator(task_id="final", trigger_rule="all_done")
""",
    "branch": """
with DAG("branch", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task.branch
    def pick():
        return ["a1"]
    a1, a2, b = EmptyOperator(task_id="a1"), EmptyOperator(task_id="a2"), EmptyOperator(task_id="b")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    strict = EmptyOperator(task_id="strict")
    pick() >> [a1, b]
    b >> a2
    [a1, a2] >> join
    [a1, a2] >> strict
    @task.short_circuit
    def gate():
        return False
    g = gate()
    a1 >> g >> EmptyOperator(task_id="gated") >> EmptyOperator(task_id="gated_after")
""",
    "mapped": """
with DAG("mapped", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task
    def items():
        return list(range(7))
    @task
    def none():
        return []
    @task
    def square(x):
        if x == 5:
            raise ValueError("five")
        return x * x
    @task(trigger_rule="all_done")
    def total(xs):
        return len(list(xs))
    @task
    def use(x):
        return x
    total(square.expand(x=items()))
    use.expand(x=none()) >> EmptyOperator(task_id="after_empty", trigger_rule="none_failed")
""",
    "setup_teardown": """
with DAG("setup_teardown", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    setup = EmptyOperator(task_id="setup").as_setup()
    work = BashOperator(task_id="work", bash_command="exit 1")
    teardown = EmptyOperator(task_id="teardown").as_teardown(setups=setup)
    setup >> work >> teardown
    work >> EmptyOperator(task_id="after_work")
""",
    "retries": """
with DAG("retries", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    @task(retries=2, retry_delay=timedelta(seconds=0))
    def flaky(ti=None):
        if ti.try_number < 3:
            raise RuntimeError("again")
    flaky() >> [EmptyOperator(task_id=f"w{i}") for i in range(5)]
""",
}


@pytest.mark.parametrize("db_url", ALL_DATABASES, indirect=True)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_partial_view_ends_runs_as_the_complete_view(harness: Harness, shape: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a DAG run driven with every pass reading the whole run
    harness.add_dag(shape, SHAPES[shape])
    complete = harness.scheduler()
    whole = harness.trigger(shape, complete, run_id="whole")
    whole_state = harness.drive(complete, shape, whole)

    # When another run of it is driven with tries in flight and every run counted as wide
    monkeypatch.setattr(scheduling, "SMALL_DAG", 0)
    partial = harness.scheduler(LaggingExecutor())
    part = harness.trigger(shape, partial, run_id="part")
    part_state = harness.drive(partial, shape, part)

    # Then both runs end the same way, task instance for task instance
    assert part_state == whole_state
    assert harness.states(shape, part) == harness.states(shape, whole)
