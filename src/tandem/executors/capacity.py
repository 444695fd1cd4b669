"""How many tries a scheduler has handed out that are not finished yet, per the DB.

Executors whose tries run elsewhere (Celery workers, pods) keep no count of their own: the
DB's is right after a restart, and counts what a fenced scheduler's peers took back.
"""

from __future__ import annotations

import sqlalchemy as sa

from tandem.db.session import session_scope
from tandem.models import TaskInstance
from tandem.state import TaskInstanceState


def busy_tries(node_id: str) -> int:
    """Tries queued by ``node_id`` that are still queued or running."""
    with session_scope() as session:
        busy = session.execute(
            sa.select(sa.func.count())
            .select_from(TaskInstance)
            .where(
                TaskInstance.queued_by == node_id,
                TaskInstance.state.in_([TaskInstanceState.QUEUED.value, TaskInstanceState.RUNNING.value]),
            )
        ).scalar_one()
    return int(busy)
