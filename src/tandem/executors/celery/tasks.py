"""The Celery task that runs one try on a worker.

It runs in a Celery pool process, which acts as the try's supervisor (``run_supervised``,
the same runner as the local executor's): it claims the try (queued -> running, compare and
set), forks a child for the task's code, heartbeats the try and records its outcome. A try that
crashes or overruns its timeout takes down only its child; a message delivered twice, or late,
loses the claim and runs nothing.

The schedulers hear that a try ended from the notice published here (``events.py``), as soon as
its outcome is committed and before its child has exited; the commit itself sends them no
database wake-up as well, which would cost every scheduler a second pass per try.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from tandem.executors.workload import Event, Workload

if TYPE_CHECKING:
    from celery import Celery, Task

log = logging.getLogger(__name__)

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
    from tandem.runner.remote_log import keep_remote_log
    from tandem.runner.supervisor import run_supervised

    runtime = current_runtime()
    parsed = parse_workload(workload)
    settings = get_settings()

    def tell_schedulers(w: Workload, _kind: str, detail: str) -> None:
        # "finished" whatever happened, as before: a try this worker could not claim for lack of
        # a database stays queued and is sent again after scheduler.queued_timeout.
        publish_event(task.app, Event(w, "finished", detail))

    detail = run_supervised(parsed, settings=settings, node_id=runtime.node_id, hostname=runtime.hostname,
                            on_report=tell_schedulers)
    keep_remote_log(settings, parsed, runtime.node_id, detail)
    return detail
