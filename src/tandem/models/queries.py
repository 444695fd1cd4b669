"""Small read and write functions on the metadata DB, shared by the CLI and the REST API.

Every function takes the session first and neither commits nor prints: the caller owns the
transaction (``session_scope``) and the presentation. Secrets are handled by the callers
that know the fernet key (``tandem.crypto``); these functions store what they are given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.db.dialects import dialect_of
from tandem.models import (
    DEFAULT_POOL,
    Backfill,
    BackfillDagRun,
    Connection,
    DagModel,
    DagRun,
    ImportError_,
    Pool,
    SerializedDagModel,
    TaskInstance,
    TaskTry,
    Variable,
    XCom,
)
from tandem.state import TI_OCCUPYING

# --- DAGs -------------------------------------------------------------------------------


def count_serialized_dags(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(SerializedDagModel)).scalar_one())


def list_dags(session: Session, *, include_inactive: bool = False) -> list[DagModel]:
    query = sa.select(DagModel).order_by(DagModel.dag_id)
    if not include_inactive:
        query = query.where(DagModel.is_active.is_(True))
    return list(session.execute(query).scalars())


def read_dag(session: Session, dag_id: str) -> DagModel | None:
    return session.get(DagModel, dag_id)


def read_serialized_dag(session: Session, dag_id: str) -> dict[str, Any] | None:
    """The serialized DAG's JSON (``tasks`` in topological order), or None."""
    return session.execute(
        sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)
    ).scalar_one_or_none()


def set_dag_paused(session: Session, dag_id: str, paused: bool) -> bool:
    """Pause or unpause a DAG; False when there is no such DAG."""
    result = session.execute(sa.update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=paused))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def lock_dag_runs(session: Session, dag_id: str, run_ids: Iterable[str] | None = None) -> list[str]:
    """Lock a DAG's runs (``run_ids``, or all) for the rest of the transaction; their run ids.

    Every user action on runs and task instances (clear, mark, delete) takes these locks first:
    schedulers hold a run's lock while they plan it, so an action waits for a pass in progress
    (and a pass skips a run an action holds) instead of racing it on a stale snapshot.
    """
    query = sa.select(DagRun.run_id).where(DagRun.dag_id == dag_id).order_by(DagRun.run_id)
    if run_ids is not None:
        query = query.where(DagRun.run_id.in_(list(run_ids)))
    return list(session.execute(dialect_of(session).lock(query)).scalars())


def delete_dag(session: Session, dag_id: str) -> dict[str, int]:
    """Delete a DAG's rows in every table; return how many rows went from each.

    Children go first: foreign keys cascade on PostgreSQL and MySQL, but SQLite only
    cascades when its foreign-key pragma is on, so nothing here relies on it.
    """
    lock_dag_runs(session, dag_id)
    counts: dict[str, int] = {}
    backfills = sa.select(Backfill.id).where(Backfill.dag_id == dag_id)
    session.execute(sa.delete(BackfillDagRun).where(BackfillDagRun.backfill_id.in_(backfills)))
    counts["backfill"] = session.execute(sa.delete(Backfill).where(Backfill.dag_id == dag_id)).rowcount  # type: ignore[attr-defined]
    for table in (XCom, TaskTry, TaskInstance, DagRun, SerializedDagModel, DagModel):
        result = session.execute(sa.delete(table).where(table.dag_id == dag_id))
        counts[table.__tablename__] = result.rowcount  # type: ignore[attr-defined]
    return counts


def list_import_errors(session: Session) -> list[ImportError_]:
    return list(session.execute(sa.select(ImportError_).order_by(ImportError_.filename)).scalars())


# --- DAG runs and task instances ----------------------------------------------------------


def list_dag_runs(session: Session, *, dag_id: str | None = None, state: str | None = None,
                  limit: int | None = None) -> list[DagRun]:
    """Runs, newest logical date first."""
    query = sa.select(DagRun).order_by(DagRun.logical_date.desc(), DagRun.dag_id)
    if dag_id is not None:
        query = query.where(DagRun.dag_id == dag_id)
    if state is not None:
        query = query.where(DagRun.state == state)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def read_dag_run(session: Session, dag_id: str, run_id: str) -> DagRun | None:
    return session.execute(
        sa.select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
    ).scalar_one_or_none()


def list_task_instances(session: Session, dag_id: str, run_id: str) -> list[TaskInstance]:
    return list(session.execute(
        sa.select(TaskInstance)
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        .order_by(TaskInstance.task_id, TaskInstance.map_index)
    ).scalars())


def count_task_states(session: Session, dag_id: str, run_id: str) -> dict[str, int]:
    """How many task instances of a run are in each state."""
    rows = session.execute(
        sa.select(TaskInstance.state, sa.func.count())
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        .group_by(TaskInstance.state)
    ).all()
    return {state: int(n) for state, n in rows}


# --- Variables ----------------------------------------------------------------------------


def list_variables(session: Session) -> list[Variable]:
    return list(session.execute(sa.select(Variable).order_by(Variable.key)).scalars())


def delete_variable(session: Session, key: str) -> bool:
    result = session.execute(sa.delete(Variable).where(Variable.key == key))
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- Connections --------------------------------------------------------------------------


def read_connection(session: Session, conn_id: str) -> Connection | None:
    return session.get(Connection, conn_id)


def list_connections(session: Session) -> list[Connection]:
    return list(session.execute(sa.select(Connection).order_by(Connection.conn_id)).scalars())


def create_connection(session: Session, connection: Connection) -> None:
    """Insert a connection; ValueError when its id is taken."""
    if session.get(Connection, connection.conn_id) is not None:
        raise ValueError(f"connection {connection.conn_id!r} already exists")
    session.add(connection)
    session.flush()


def delete_connection(session: Session, conn_id: str) -> bool:
    result = session.execute(sa.delete(Connection).where(Connection.conn_id == conn_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- Pools --------------------------------------------------------------------------------


def set_pool(session: Session, name: str, slots: int, description: str | None) -> Pool:
    """Create or update a pool."""
    if not name.strip():
        raise ValueError("a pool name cannot be empty")
    if slots < 0:
        raise ValueError(f"pool slots must be 0 or more, not {slots}")
    pool = session.get(Pool, name)
    if pool is None:
        pool = Pool(name=name, slots=slots, description=description)
        session.add(pool)
    else:
        pool.slots, pool.description = slots, description
    session.flush()
    return pool


def list_pools(session: Session) -> list[dict[str, Any]]:
    """Every pool with its ``occupied`` slots (queued and running tries) and ``open`` ones."""
    occupied = dict(session.execute(
        sa.select(TaskInstance.pool, sa.func.sum(TaskInstance.pool_slots))
        .where(TaskInstance.state.in_([s.value for s in TI_OCCUPYING]))
        .group_by(TaskInstance.pool)
    ).all())
    rows = []
    for pool in session.execute(sa.select(Pool).order_by(Pool.name)).scalars():
        used = int(occupied.get(pool.name) or 0)
        rows.append({"name": pool.name, "slots": pool.slots, "occupied": used,
                     "open": pool.slots - used, "description": pool.description})
    return rows


def delete_pool(session: Session, name: str) -> bool:
    """Delete a pool; ValueError for the default pool, which every task falls back on."""
    if name == DEFAULT_POOL:
        raise ValueError(f"the {DEFAULT_POOL!r} pool cannot be deleted")
    result = session.execute(sa.delete(Pool).where(Pool.name == name))
    return bool(result.rowcount)  # type: ignore[attr-defined]
