"""Serialized DAGs as the scheduler reads them, with graph lookups precomputed.

A cache keyed by ``dag_hash``: the hash is read from the database on every use, so a peer
that parsed a newer version is seen at once. The cache holds derived data, never truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import SerializedDagModel

log = logging.getLogger(__name__)


class DagData:
    def __init__(self, data: dict[str, Any], dag_hash: str) -> None:
        self.data = data
        self.dag_hash = dag_hash
        self.dag_id: str = data["dag_id"]
        self.tasks: dict[str, dict[str, Any]] = {t["task_id"]: t for t in data["tasks"]}
        self.order: list[str] = [t["task_id"] for t in data["tasks"]]

    def upstream(self, task_id: str) -> list[str]:
        return list(self.tasks[task_id]["upstream"])

    def downstream(self, task_id: str) -> list[str]:
        return list(self.tasks[task_id]["downstream"])

    @cached_property
    def leaves(self) -> frozenset[str]:
        """The tasks whose states decide the run's: as in Airflow, a teardown (and only
        teardowns downstream) does not make a task a non-leaf, unless it has
        ``on_failure_fail_dagrun``."""

        def ignorable(task_id: str) -> bool:
            task = self.tasks[task_id]
            return bool(task.get("is_teardown")) and not task.get("on_failure_fail_dagrun")

        effective = frozenset(
            t for t, d in self.tasks.items() if not ignorable(t) and all(ignorable(x) for x in d["downstream"])
        )
        return effective or frozenset(t for t, d in self.tasks.items() if not d["downstream"])

    @cached_property
    def has_signals(self) -> bool:
        """Whether any task is a branch or short-circuit (whose XComs steer scheduling)."""
        return any(d.get("is_branch") or d.get("is_short_circuit") for d in self.tasks.values())

    @cached_property
    def signal_tasks(self) -> tuple[str, ...]:
        """Branch and short-circuit tasks, in topological order."""
        return tuple(t for t in self.order if self.tasks[t].get("is_branch") or self.tasks[t].get("is_short_circuit"))

    @cached_property
    def position(self) -> dict[str, int]:
        """Each task's index in topological order."""
        return {t: i for i, t in enumerate(self.order)}

    @cached_property
    def has_mapped_groups(self) -> bool:
        return any(d.get("mapped_group") for d in self.tasks.values())

    @cached_property
    def mapped(self) -> frozenset[str]:
        return frozenset(t for t, d in self.tasks.items() if d.get("mapped"))

    def descendants(self, task_id: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.tasks[task_id]["downstream"])
        while stack:
            t = stack.pop()
            if t not in seen:
                seen.add(t)
                stack.extend(self.tasks[t]["downstream"])
        return seen

    @property
    def max_active_runs(self) -> int:
        return int(self.data.get("max_active_runs") or 16)

    @property
    def max_active_tasks(self) -> int:
        return int(self.data.get("max_active_tasks") or 16)

    @property
    def dagrun_timeout(self) -> float | None:
        return self.data.get("dagrun_timeout")

    def start_date(self) -> datetime | None:
        value = self.data.get("start_date")
        return datetime.fromisoformat(value) if value else None

    def end_date(self) -> datetime | None:
        value = self.data.get("end_date")
        return datetime.fromisoformat(value) if value else None


class DagDataCache:
    """Serialized DAGs by id, re-validated against the DB's hash at most every ``max_age`` s.

    ``max_age=0`` checks on every use (API, triggers); the scheduler tolerates a new DAG
    version taking effect a moment later in exchange for one query less per pass.
    """

    def __init__(self, max_age: float = 0.0) -> None:
        self.max_age = max_age
        self._by_id: dict[str, DagData] = {}
        self._checked_at: dict[str, float] = {}
        #: Why a DAG's serialized form could not be read (written by another Tandem version,
        #: corrupted), by dag_id; such DAGs are left out of results, never fatal to a caller.
        self.unreadable: dict[str, str] = {}

    def get_many(self, session: Session, dag_ids: Iterable[str]) -> dict[str, DagData]:
        """The current serialized version of each DAG (DAGs without one are left out)."""
        ids = set(dag_ids)
        if not ids:
            return {}
        now = time.monotonic()
        fresh = {d for d in ids if d in self._by_id and now - self._checked_at.get(d, -1e9) < self.max_age}
        if fresh == ids:
            return {d: self._by_id[d] for d in ids}
        hashes = dict(session.execute(
            sa.select(SerializedDagModel.dag_id, SerializedDagModel.dag_hash)
            .where(SerializedDagModel.dag_id.in_(ids - fresh))
        ).all())
        for dag_id in hashes:
            self._checked_at[dag_id] = now
        hashes.update({d: self._by_id[d].dag_hash for d in fresh})
        stale = [d for d, h in hashes.items() if d not in self._by_id or self._by_id[d].dag_hash != h]
        if stale:
            self._load(session, stale)
        return {d: self._by_id[d] for d in hashes if d in self._by_id}

    def _load(self, session: Session, dag_ids: list[str]) -> None:
        query = sa.select(SerializedDagModel.dag_id, SerializedDagModel.data, SerializedDagModel.dag_hash)
        try:
            rows = session.execute(query.where(SerializedDagModel.dag_id.in_(dag_ids))).all()
        except sa.exc.DBAPIError:
            raise
        except Exception:  # noqa: BLE001 - one undecodable row: read them one by one to find it
            rows = []
            for dag_id in dag_ids:
                try:
                    rows += session.execute(query.where(SerializedDagModel.dag_id == dag_id)).all()
                except sa.exc.DBAPIError:
                    raise
                except Exception as e:  # noqa: BLE001
                    self._unreadable(dag_id, e)
        for dag_id, data, dag_hash in rows:
            try:
                self._by_id[dag_id] = DagData(data, dag_hash)
                self.unreadable.pop(dag_id, None)
            except Exception as e:  # noqa: BLE001 - a DAG serialized by another version, say
                self._unreadable(dag_id, e)

    def forget(self, dag_id: str) -> None:
        """Drop a DAG's cached form, so its next use reads it again (it just failed a caller)."""
        self._by_id.pop(dag_id, None)
        self._checked_at.pop(dag_id, None)

    def _unreadable(self, dag_id: str, error: Exception) -> None:
        self._by_id.pop(dag_id, None)
        reason = f"its serialized form cannot be read ({type(error).__name__}: {error})"
        if self.unreadable.get(dag_id) != reason:
            log.error("DAG %s: %s; its runs wait until it is parsed again", dag_id, reason)
        self.unreadable[dag_id] = reason

    def get(self, session: Session, dag_id: str) -> DagData | None:
        return self.get_many(session, [dag_id]).get(dag_id)
