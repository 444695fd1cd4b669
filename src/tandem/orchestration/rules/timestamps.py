from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.orchestration.rules.base import RunRule, TiRule
from tandem.state import RUN_TERMINAL, TI_TERMINAL, DagRunState, TaskInstanceState

if TYPE_CHECKING:
    from tandem.orchestration.transition import RunProposal, TiProposal

_ENDED = TI_TERMINAL | {TaskInstanceState.UP_FOR_RETRY}


class StampTaskTimes(TiRule):
    """Record when a task instance was scheduled, queued, and when its try ended."""

    def before_transition(self, p: TiProposal) -> None:
        v = p.values
        if p.new == TaskInstanceState.SCHEDULED:
            v.setdefault("scheduled_at", p.now)
        elif p.new == TaskInstanceState.QUEUED:
            v.setdefault("queued_at", p.now)
        elif p.new == TaskInstanceState.RUNNING:
            v.setdefault("start_date", p.now)
            v.setdefault("end_date", None)
            v.setdefault("duration", None)
            v.setdefault("last_heartbeat", p.now)
        elif p.new in _ENDED:
            v.setdefault("end_date", p.now)
        elif p.new == TaskInstanceState.NONE:
            # Cleared: a fresh start, keeping try_number so the next try gets a new number.
            for col in ("start_date", "end_date", "duration", "next_retry_at", "queued_at", "scheduled_at",
                        "hostname", "pid", "node_id", "queued_by", "failure_reason"):
                v.setdefault(col, None if col not in ("hostname",) else "")


class StampRunTimes(RunRule):
    def before_transition(self, p: RunProposal) -> None:
        if p.new == DagRunState.RUNNING:
            p.values.setdefault("start_date", p.now)
        elif p.new in RUN_TERMINAL:
            p.values.setdefault("end_date", p.now)
        elif p.new == DagRunState.QUEUED:
            p.values.setdefault("queued_at", p.now)
            p.values.setdefault("end_date", None)
