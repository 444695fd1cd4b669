"""What the executor itself records about a try: its pod failed it before the runner could.

The runner in the pod records every outcome it lives to see. The executor steps in only for
what the runner cannot record: a pod that never started (image pull, unschedulable, invalid
spec), a container killed under the runner (OOMKilled, evicted), a pod deleted mid-try. Each
write is a compare-and-set, so two schedulers, or a scheduler and the runner, never both win.
"""

from __future__ import annotations

import logging

from tandem.config import Settings
from tandem.db.session import session_scope
from tandem.executors.workload import Workload
from tandem.models import utcnow
from tandem.orchestration import transition_ti
from tandem.runner.claim import close_try_record, read_retry_params
from tandem.runner.logs import append_line
from tandem.state import TaskInstanceState as S

log = logging.getLogger(__name__)


def fail_try(settings: Settings, workload: Workload, reason: str, *, pod_name: str) -> S | None:
    """Fail the pod's try with ``reason``: still queued for it, or claimed by this very pod.

    Returns the state the try ended in (``up_for_retry`` with retries left), or None when the
    try was already past that point (recorded by the runner, re-queued to another pod, cleared).
    """
    key = workload.key
    now = utcnow()
    with session_scope() as session:
        retry = read_retry_params(session, workload)
        # Never claimed: as when a try sits queued too long, it counts as a try of its own.
        final = transition_ti(
            session, key, S.QUEUED, S.FAILED, try_number=workload.try_number - 1,
            values={"failure_reason": reason, "try_number": workload.try_number, "queued_requeues": 0},
            retry=retry, guard={"queued_by": workload.queued_by} if workload.queued_by else None, now=now,
        )
        if final is None:
            final = transition_ti(
                session, key, S.RUNNING, S.FAILED, try_number=workload.try_number,
                values={"failure_reason": reason}, retry=retry, guard={"hostname": pod_name}, now=now,
            )
            if final is not None:
                close_try_record(session, key, workload.try_number, final, now)
    if final is not None:
        log.warning("%s: %s -> %s", workload, reason, final.value)
        append_line(settings.log_folder, key, workload.try_number, reason)
    return final
