"""The ``ti`` object a running task sees: identity plus XCom access through the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import XCom


class RuntimeTaskInstance:
    """Implements ``tandem.sdk.runtime.RuntimeTaskInstance`` for the runner.

    Pushes are collected and written with the try's final state in one transaction, so a try
    that loses its claim midway leaves no XCom behind.
    """

    def __init__(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int,
                 mapped_tasks: set[str], session_factory: Callable[[], Any]) -> None:
        self.dag_id, self.run_id, self.task_id = dag_id, run_id, task_id
        self.map_index, self.try_number = map_index, try_number
        self._mapped_tasks = mapped_tasks
        self._session_factory = session_factory
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, task_ids: str | list[str] | None = None, key: str = "return_value",
                  map_indexes: int | list[int] | None = None, default: Any = None) -> Any:
        if task_ids is None:
            task_ids = self.task_id
        with self._session_factory() as session:
            if isinstance(task_ids, str):
                return self._pull_one(session, task_ids, key, map_indexes, default)
            return [self._pull_one(session, t, key, map_indexes, default) for t in task_ids]

    def _pull_one(self, session: Session, task_id: str, key: str, map_indexes: int | list[int] | None,
                  default: Any) -> Any:
        if task_id == self.task_id and key in self.pushed:
            return self.pushed[key]
        query = sa.select(XCom.map_index, XCom.value).where(
            XCom.dag_id == self.dag_id, XCom.run_id == self.run_id, XCom.task_id == task_id, XCom.key == key
        )
        if map_indexes is None and task_id in self._mapped_tasks:
            rows = session.execute(query.where(XCom.map_index >= 0).order_by(XCom.map_index)).all()
            return [r.value for r in rows]
        if isinstance(map_indexes, list):
            by_index = {r.map_index: r.value for r in session.execute(query.where(XCom.map_index.in_(map_indexes)))}
            return [by_index.get(i, default) for i in map_indexes]
        index = -1 if map_indexes is None else map_indexes
        value = session.execute(query.where(XCom.map_index == index)).one_or_none()
        return default if value is None else value.value

    def __repr__(self) -> str:
        return f"<TaskInstance {self.dag_id}.{self.task_id}[{self.map_index}] {self.run_id} try {self.try_number}>"

