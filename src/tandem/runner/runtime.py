"""The ``ti`` object a running task sees: identity plus XCom access (the rows its supervisor
read ahead, else the database)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Container
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import DagRun, XCom
from tandem.runner.prefetch import Prefetched
from tandem.sdk.task_log import task_logger

_MISSING: Any = object()


class RuntimeTaskInstance:
    """Implements ``tandem.sdk.runtime.RuntimeTaskInstance`` for the runner.

    Pushes are collected and written with the try's final state in one transaction, so a try
    that loses its claim midway leaves no XCom behind.
    """

    def __init__(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int,
                 mapped_tasks: Container[str], session_factory: Callable[[], Any],
                 prefetched: Prefetched | None = None) -> None:
        """``prefetched``: XCom rows of this run read before the try started (``runner.prefetch``)."""
        self.dag_id, self.run_id, self.task_id = dag_id, run_id, task_id
        self.map_index, self.try_number = map_index, try_number
        self._mapped_tasks = mapped_tasks
        self._session_factory = session_factory
        self._prefetched = prefetched or {}
        self._handed_out: set[tuple[str, str]] = set()
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, task_ids: str | list[str] | None = None, key: str = "return_value",
                  map_indexes: int | list[int] | None = None, default: Any = None, *, dag_id: str | None = None,
                  run_id: str | None = None, include_prior_dates: bool = False) -> Any:
        """Airflow's ``xcom_pull``; ``dag_id``/``run_id`` read another run, ``include_prior_dates``
        falls back to the latest earlier run of the DAG that has the value."""
        if task_ids is None:
            task_ids = self.task_id
        if (dag_id or self.dag_id, run_id or self.run_id) == (self.dag_id, self.run_id) and not include_prior_dates:
            found = [self._pull_prefetched(t, key, map_indexes, default)
                     for t in ([task_ids] if isinstance(task_ids, str) else task_ids)]
            if not any(f is _MISSING for f in found):
                return found[0] if isinstance(task_ids, str) else found
        with self._session_factory() as session:
            runs = self._runs(session, dag_id or self.dag_id, run_id or self.run_id, include_prior_dates)
            if isinstance(task_ids, str):
                return self._pull_first(session, runs, task_ids, key, map_indexes, default)
            return [self._pull_first(session, runs, t, key, map_indexes, default) for t in task_ids]

    def _runs(self, session: Session, dag_id: str, run_id: str, include_prior_dates: bool) -> list[tuple[str, str]]:
        if not include_prior_dates:
            return [(dag_id, run_id)]
        this = sa.select(DagRun.logical_date).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id).scalar_subquery()
        earlier = session.execute(sa.select(DagRun.run_id).where(DagRun.dag_id == dag_id, DagRun.logical_date <= this)
                                  .order_by(DagRun.logical_date.desc())).scalars()
        return [(dag_id, r) for r in earlier]

    def _pull_first(self, session: Session, runs: list[tuple[str, str]], task_id: str, key: str,
                    map_indexes: int | list[int] | None, default: Any) -> Any:
        if len(runs) == 1:
            return self._pull_one(session, *runs[0], task_id, key, map_indexes, default)
        missing = object()
        for dag_id, run_id in runs:
            value = self._pull_one(session, dag_id, run_id, task_id, key, map_indexes, missing)
            if value is not missing and value != []:
                return value
        return default

    def _pull_prefetched(self, task_id: str, key: str, map_indexes: int | list[int] | None, default: Any) -> Any:
        """What ``_pull_one`` would read, from the prefetched rows; _MISSING if they lack it."""
        if task_id == self.task_id and key in self.pushed:
            return self.pushed[key]
        rows = self._prefetched.get((task_id, key))
        if rows is None:  # not prefetched, or no row then: ask the database
            return _MISSING
        if map_indexes is None and task_id in self._mapped_tasks:
            value: Any = [rows[i] for i in sorted(rows) if i >= 0]
        elif isinstance(map_indexes, list):
            value = [rows.get(i, default) for i in map_indexes]
        else:
            value = rows.get(-1 if map_indexes is None else map_indexes, default)
        # Each pull from the database decodes objects of its own: so does every pull after the
        # first here, lest a task that changes one argument change another.
        if value is default:
            return default
        if (task_id, key) in self._handed_out:
            return copy.deepcopy(value)
        self._handed_out.add((task_id, key))
        return value

    def _pull_one(self, session: Session, dag_id: str, run_id: str, task_id: str, key: str,
                  map_indexes: int | list[int] | None, default: Any) -> Any:
        if (dag_id, run_id, task_id) == (self.dag_id, self.run_id, self.task_id) and key in self.pushed:
            return self.pushed[key]
        query = sa.select(XCom.map_index, XCom.value).where(
            XCom.dag_id == dag_id, XCom.run_id == run_id, XCom.task_id == task_id, XCom.key == key
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

    @property
    def log(self) -> logging.Logger:
        """The task's logger (``ti.log.info(...)`` in DAG code)."""
        task_logger(self)
        return logging.getLogger("airflow.task")

    def __repr__(self) -> str:
        return f"<TaskInstance {self.dag_id}.{self.task_id}[{self.map_index}] {self.run_id} try {self.try_number}>"

