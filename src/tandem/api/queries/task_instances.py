"""Task instances, their tries and XComs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.schemas.filters import Page, apply_order, paginate
from tandem.models import DagRun, TaskInstance, TaskTry, XCom

ORDER_COLUMNS = {"task_id": TaskInstance.task_id, "map_index": TaskInstance.map_index,
                 "state": TaskInstance.state, "start_date": TaskInstance.start_date,
                 "end_date": TaskInstance.end_date, "duration": TaskInstance.duration,
                 "try_number": TaskInstance.try_number, "pool": TaskInstance.pool,
                 "priority_weight": TaskInstance.priority_weight, "dag_run_id": TaskInstance.run_id}


def list_task_instances(session: Session, p: Page, *, dag_id: str | None, run_id: str | None,
                        task_id: str | None = None, states: list[str] | None = None,
                        pools: list[str] | None = None) -> tuple[list[tuple[TaskInstance, Any]], int]:
    """(task instance, its run's logical date) pairs."""
    query: Any = sa.select(TaskInstance, DagRun.logical_date).join(
        DagRun, sa.and_(DagRun.dag_id == TaskInstance.dag_id, DagRun.run_id == TaskInstance.run_id))
    if dag_id is not None:
        query = query.where(TaskInstance.dag_id == dag_id)
    if run_id is not None:
        query = query.where(TaskInstance.run_id == run_id)
    if task_id is not None:
        query = query.where(TaskInstance.task_id == task_id)
    if states:
        query = query.where(TaskInstance.state.in_(states))
    if pools:
        query = query.where(TaskInstance.pool.in_(pools))
    query = apply_order(query, p.order_by, ORDER_COLUMNS, [TaskInstance.task_id, TaskInstance.map_index])
    total = int(session.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one())
    rows = [tuple(r) for r in session.execute(query.limit(p.limit).offset(p.offset)).tuples()]
    return rows, total


def read_task_instance(session: Session, dag_id: str, run_id: str, task_id: str,
                       map_index: int = -1) -> TaskInstance | None:
    return session.get(TaskInstance, (dag_id, run_id, task_id, map_index))


def list_tries(session: Session, p: Page, dag_id: str, run_id: str, task_id: str,
               map_index: int = -1) -> tuple[list[TaskTry], int]:
    query = sa.select(TaskTry).where(TaskTry.dag_id == dag_id, TaskTry.run_id == run_id,
                                     TaskTry.task_id == task_id, TaskTry.map_index == map_index)
    return paginate(session, query.order_by(TaskTry.try_number), p)


def read_try(session: Session, dag_id: str, run_id: str, task_id: str, map_index: int,
             try_number: int) -> TaskTry | None:
    return session.get(TaskTry, (dag_id, run_id, task_id, map_index, try_number))


def list_xcoms(session: Session, p: Page, dag_id: str, run_id: str, task_id: str,
               map_index: int | None = None) -> tuple[list[XCom], int]:
    query = sa.select(XCom).where(XCom.dag_id == dag_id, XCom.run_id == run_id, XCom.task_id == task_id)
    if map_index is not None:
        query = query.where(XCom.map_index == map_index)
    return paginate(session, query.order_by(XCom.map_index, XCom.key), p)


def read_xcom(session: Session, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1) -> XCom | None:
    return session.get(XCom, (dag_id, run_id, task_id, map_index, key))
