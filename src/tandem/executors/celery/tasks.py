"""The Celery task that runs one try on a worker.

It runs in a Celery pool process, which acts as the try's supervisor (``run_supervised``,
the same runner as the local executor's): it claims the try (queued -> running, compare and
set), forks a child for the task's code, heartbeats the try and records its outcome. A try that
crashes or overruns its timeout takes down only its child; a message delivered twice, or late,
loses the claim and runs nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from tandem.executors.workload import Event, Workload

if TYPE_CHECKING:
    from celery import Celery, Task

log = logging.getLogger(__name__)

#: What ``run_supervised`` answers for a try another runner owns.
NOT_CLAIMED = "not claimed"
_WORKLOAD_FIELDS = frozenset(f.name for f in dataclasses.fields(Workload))


def register(app: Celery) -> None:
    from tandem.executors.celery.app import TASK_NAME

    app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True, typing=False)(
        run_workload_task
    )


def parse_workload(data: dict[str, Any]) -> Workload:
    # A newer scheduler may send fields this worker does not know: run what we understand.
    return Workload.from_dict({k: v for k, v in data.items() if k in _WORKLOAD_FIELDS})


def run_workload_task(task: Task, workload: dict[str, Any]) -> str:
    """Run one try in a forked child, keep its log, tell the schedulers it finished."""
    from tandem.config import get_settings
    from tandem.executors.celery.events import publish_event
    from tandem.executors.celery.worker import current_runtime
    from tandem.logs.remote import upload_try_log
    from tandem.runner.supervisor import run_supervised

    runtime = current_runtime()
    parsed = parse_workload(workload)
    settings = get_settings()
    detail = run_supervised(parsed, settings=settings, node_id=runtime.node_id, hostname=runtime.hostname)
    # A duplicate delivery ran nothing here, so it has no log to keep.
    if (
        detail != NOT_CLAIMED
        and settings.logging.remote_base_log_folder
        and _ran_here(parsed, runtime.node_id)
    ):
        try:
            upload_try_log(settings, parsed.key, parsed.try_number)
        except Exception:  # the log stays readable from this worker
            log.exception("could not copy the log of %s to remote storage", parsed)
    publish_event(task.app, Event(parsed, "finished", detail))
    return detail


def _ran_here(workload: Workload, node_id: str) -> bool:
    """Did this node claim the try? A duplicate delivery must not overwrite the real log remotely."""
    import sqlalchemy as sa

    from tandem.db.session import session_scope
    from tandem.models import TaskTry

    key = workload.key
    with session_scope() as session:
        owner = session.execute(
            sa.select(TaskTry.node_id).where(
                TaskTry.dag_id == key.dag_id,
                TaskTry.run_id == key.run_id,
                TaskTry.task_id == key.task_id,
                TaskTry.map_index == key.map_index,
                TaskTry.try_number == workload.try_number,
            )
        ).scalar_one_or_none()
    return owner == node_id
