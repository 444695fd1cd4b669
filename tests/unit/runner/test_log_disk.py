"""A log disk that fails: only the tries that cannot log fail, with the reason in the DB."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.executors.stub import StubExecutor
from tandem.runner.logs import TryLog
from tandem.runner.supervisor import run_supervised
from tests.fixtures.scheduler import Harness


def test_a_log_that_cannot_be_opened_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    log = TryLog(blocker / "attempt=1.log")
    log.line("lost, harmlessly")
    log.close()
    assert isinstance(log.error, OSError)
    with pytest.raises(OSError, match="could not be opened"):
        log.fileno()


def test_a_try_whose_log_cannot_be_written_fails_with_the_reason(harness: Harness, tmp_path: Path) -> None:
    harness.add_dag("one", """
with DAG("one", schedule=None, start_date=datetime(2024, 1, 1)) as d:
    EmptyOperator(task_id="t", retries=0)
""")
    executor = StubExecutor()
    scheduler = harness.scheduler(executor)
    run_id = harness.trigger("one", scheduler)
    scheduler.run_once()
    (workload,) = executor.take()
    # Given a log folder that cannot be written (as on a full disk, the write fails)
    blocker = tmp_path / "full"
    blocker.write_text("")
    harness.settings.logging.base_log_folder = blocker / "logs"
    # When the try runs, its supervisor neither crashes nor loses the try
    result = run_supervised(workload, settings=harness.settings, node_id=scheduler.node_id)
    # Then the try failed, saying why
    assert result == "failed"
    ti = harness.tis("one", run_id)[("t", -1)]
    assert ti.state == "failed"
    assert "cannot write the try's log" in (ti.failure_reason or "")
