"""The runner's :class:`~tandem.sdk.other_dags.OtherDagsBackend`, on the metadata database."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import DagRun, SerializedDagModel, TaskInstance
from tandem.orchestration.actions import clear_task_instances
from tandem.scheduler.dag_data import DagDataCache
from tandem.scheduler.dagruns import RunExists, trigger_dag_run
from tandem.sdk.other_dags import RunAlreadyExists


class DatabaseOtherDags:
    """Each call is one short transaction."""

    def __init__(self, session_factory: Callable[[], AbstractContextManager[Session]]) -> None:
        self._session_factory = session_factory

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any], logical_date: datetime) -> str:
        try:
            with self._session_factory() as session:
                return trigger_dag_run(session, DagDataCache(), dag_id, run_id=run_id, conf=conf,
                                       logical_date=logical_date, triggered_by="TriggerDagRunOperator").run_id
        except RunExists as err:
            raise RunAlreadyExists(str(err)) from None

    def reset(self, dag_id: str, run_id: str) -> None:
        with self._session_factory() as session:
            clear_task_instances(session, dag_id, run_ids=[run_id])

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        with self._session_factory() as session:
            return session.execute(sa.select(DagRun.state).where(
                DagRun.dag_id == dag_id, DagRun.run_id == run_id)).scalar_one_or_none()

    def states(self, dag_id: str, logical_dates: list[datetime], task_ids: list[str] | None) -> list[str]:
        with self._session_factory() as session:
            runs = sa.select(DagRun.run_id).where(DagRun.dag_id == dag_id, DagRun.logical_date.in_(logical_dates))
            if task_ids is None:
                query = sa.select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.logical_date.in_(logical_dates))
            else:
                query = sa.select(TaskInstance.state).where(
                    TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(runs), TaskInstance.task_id.in_(task_ids))
            return [str(s) for s in session.execute(query).scalars()]

    def dag_exists(self, dag_id: str, task_ids: list[str] | None) -> bool:
        with self._session_factory() as session:
            data = session.execute(sa.select(SerializedDagModel.data).where(
                SerializedDagModel.dag_id == dag_id)).scalar_one_or_none()
        if data is None:
            return False
        return not task_ids or set(task_ids) <= {t["task_id"] for t in data["tasks"]}

