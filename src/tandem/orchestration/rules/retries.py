from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tandem.models import TaskInstance
from tandem.orchestration.rules.base import TiRule
from tandem.state import TaskInstanceState

if TYPE_CHECKING:
    from tandem.orchestration.transition import RetryParams, TiProposal


# The longest an exponential backoff grows, as in Airflow: doubling past try 40 or so would
# otherwise overflow timedelta (and ``now + delay``) and crash whoever computes it.
MAX_RETRY_DELAY = timedelta(days=1)


def retry_delay(try_number: int, params: RetryParams) -> timedelta:
    """Delay before the try after ``try_number``; doubles per try when exponential."""
    delay = params.retry_delay
    seconds = delay.total_seconds()
    if params.exponential and seconds > 0:
        # Compare exponents, not products, so no intermediate value can overflow.
        doublings = max(try_number - 1, 0)
        if doublings >= math.log2(MAX_RETRY_DELAY.total_seconds() / seconds):
            delay = max(delay, MAX_RETRY_DELAY)
        else:
            delay = min(timedelta(seconds=seconds * 2**doublings), MAX_RETRY_DELAY)
    if params.max_delay is not None:
        delay = min(delay, params.max_delay)
    return delay


class RetryFailedTaskInstances(TiRule):
    """A running try that fails while tries remain becomes up_for_retry, due after its delay."""

    FROM_STATES = frozenset({TaskInstanceState.RUNNING, TaskInstanceState.QUEUED})
    TO_STATES = frozenset({TaskInstanceState.FAILED})

    def before_transition(self, proposal: TiProposal) -> None:
        if proposal.retry is None or len(proposal.keys) != 1:
            return  # bulk failures and manual "mark failed" never retry
        key = proposal.keys[0]
        row = proposal.session.execute(
            sa.select(TaskInstance.try_number, TaskInstance.max_tries).where(
                TaskInstance.dag_id == key.dag_id, TaskInstance.run_id == key.run_id,
                TaskInstance.task_id == key.task_id, TaskInstance.map_index == key.map_index,
            )
        ).one_or_none()
        if row is None:
            return
        # The failing try's number: the one being written, else the CAS's, else the row's.
        try_number = proposal.values.get("try_number", proposal.try_number)
        if try_number is None:
            try_number = row.try_number
        if try_number < row.max_tries + 1:
            proposal.new = TaskInstanceState.UP_FOR_RETRY
            proposal.values["next_retry_at"] = proposal.now + retry_delay(try_number, proposal.retry)
