"""Copying a finished try's log to remote storage, from the machine that ran it."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from tandem.config import Settings
from tandem.db.session import session_scope
from tandem.executors.workload import Workload
from tandem.models import TaskTry

log = logging.getLogger(__name__)

#: What ``run_supervised`` answers for a try another runner owns.
NOT_CLAIMED = "not claimed"


def keep_remote_log(settings: Settings, workload: Workload, node_id: str, detail: str) -> None:
    """Upload the try's log if remote storage is set and this runner claimed the try.

    A duplicate delivery ran nothing here, so it has no log to keep, and must not overwrite
    the real one. Failures are logged: the log stays readable where it was written.
    """
    if detail == NOT_CLAIMED or not settings.logging.remote_base_log_folder or not ran_here(workload, node_id):
        return
    from tandem.logs.remote import upload_try_log

    try:
        upload_try_log(settings, workload.key, workload.try_number)
    except Exception:  # noqa: BLE001 - storage away or misconfigured
        log.exception("could not copy the log of %s to remote storage", workload)


def ran_here(workload: Workload, node_id: str) -> bool:
    """Did the runner ``node_id`` claim the try?"""
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
