"""Recording a try whose process died before it could report its outcome."""

from __future__ import annotations

from tandem.config import get_settings
from tandem.db.session import session_scope
from tandem.executors.workload import Workload
from tandem.orchestration import transition_ti
from tandem.runner.claim import finish_try, read_retry_params, read_try_state
from tandem.runner.logs import append_line
from tandem.state import TaskInstanceState


def record_crash(workload: Workload, reason: str) -> TaskInstanceState | None:
    """Fail the try (or re-schedule it if it never started) and log why; None if it moved on."""
    with session_scope() as session:
        current = read_try_state(session, workload)
        if current is None:
            return None
        state, try_number = current
        if state == TaskInstanceState.RUNNING and try_number == workload.try_number:
            final = finish_try(session, workload, TaskInstanceState.FAILED, start_date=None,
                               retry=read_retry_params(session, workload), reason=reason)
        elif state == TaskInstanceState.QUEUED and try_number == workload.try_number - 1:
            # Died before claiming: nothing ran, so hand the same try out again.
            final = transition_ti(session, workload.key, TaskInstanceState.QUEUED, TaskInstanceState.SCHEDULED,
                                  try_number=try_number)
        else:
            return None
    append_line(get_settings().log_folder, workload.key, workload.try_number, reason)
    return final
