"""The compare-and-set state writer."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import DagRun, TaskInstance, table_of, utcnow
from tandem.orchestration.policies import RUN_POLICY, TI_POLICY
from tandem.state import DagRunState, TaskInstanceState, run_allowed, ti_allowed


class InvalidTransition(ValueError):
    """A caller asked for an edge that ``tandem.state`` does not allow."""


class TiKey(NamedTuple):
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1


@dataclass(frozen=True)
class RetryParams:
    """How long to wait before the next try, as the task declares it."""

    retry_delay: timedelta = timedelta(seconds=300)
    exponential: bool = False
    max_delay: timedelta | None = None

    @classmethod
    def from_task_data(cls, task: dict[str, Any]) -> RetryParams:
        """From a serialized task (``tandem.sdk.serialization``), where delays are seconds."""
        max_delay = task.get("max_retry_delay")
        return cls(
            retry_delay=timedelta(seconds=task.get("retry_delay") or 0),
            exponential=bool(task.get("retry_exponential_backoff")),
            max_delay=timedelta(seconds=max_delay) if max_delay is not None else None,
        )


@dataclass
class TiProposal:
    """A proposed task instance transition, as the rules see and may amend it."""

    session: Session
    keys: list[TiKey]
    expected: frozenset[TaskInstanceState]
    new: TaskInstanceState
    values: dict[str, Any]
    now: datetime
    try_number: int | None = None
    retry: RetryParams | None = None
    guard: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunProposal:
    session: Session
    dag_id: str
    run_id: str
    expected: frozenset[DagRunState]
    new: DagRunState
    values: dict[str, Any]
    now: datetime


def _as_set(states: TaskInstanceState | Iterable[TaskInstanceState]) -> frozenset[TaskInstanceState]:
    if isinstance(states, str):
        return frozenset({TaskInstanceState(states)})
    return frozenset(TaskInstanceState(s) for s in states)


def _check_ti_edges(expected: frozenset[TaskInstanceState], new: TaskInstanceState) -> None:
    bad = sorted(s.value for s in expected if not ti_allowed(s, new))
    if bad:
        raise InvalidTransition(f"task instance cannot go from {', '.join(bad)} to {new.value}")


# The writes below are plain Core statements on the tables, built once per shape with bound
# parameters: they sit on every hop's path, where building an expression tree and the ORM's
# bulk-update machinery cost more CPU than the round trip itself.
_TI = table_of(TaskInstance)
_RUN = table_of(DagRun)


@functools.lru_cache(maxsize=256)
def _ti_update(keys: str, expected: tuple[str, ...], try_number: bool, guard: tuple[str, ...],
               columns: tuple[str, ...]) -> sa.Update:
    """The CAS update for one shape of transition (which key form, which guards, which columns set).

    ``keys``: "one" (a task instance), "run" (several of one run) or "many" (of several runs).
    """
    c = _TI.c
    where: list[sa.ColumnElement[bool]] = []
    if keys == "many":
        where.append(sa.tuple_(c.dag_id, c.run_id, c.task_id, c.map_index).in_(sa.bindparam("k_keys", expanding=True)))
    else:
        where += [c.dag_id == sa.bindparam("k_dag_id"), c.run_id == sa.bindparam("k_run_id")]
        if keys == "one":
            where += [c.task_id == sa.bindparam("k_task_id"), c.map_index == sa.bindparam("k_map_index")]
        else:
            where.append(sa.tuple_(c.task_id, c.map_index).in_(sa.bindparam("k_items", expanding=True)))
    where.append(c.state.in_(expected))
    if try_number:
        where.append(c.try_number == sa.bindparam("k_try_number"))
    where += [c[column] == sa.bindparam(f"g_{column}") for column in guard]
    return sa.update(_TI).where(*where).values({col: sa.bindparam(f"v_{col}", type_=c[col].type) for col in columns})


def _key_params(keys: list[TiKey]) -> tuple[str, dict[str, Any]]:
    if len(keys) == 1:
        k = keys[0]
        return "one", {"k_dag_id": k.dag_id, "k_run_id": k.run_id, "k_task_id": k.task_id, "k_map_index": k.map_index}
    runs = {(k.dag_id, k.run_id) for k in keys}
    if len(runs) == 1:
        dag_id, run_id = next(iter(runs))
        return "run", {"k_dag_id": dag_id, "k_run_id": run_id, "k_items": [(k.task_id, k.map_index) for k in keys]}
    return "many", {"k_keys": [tuple(k) for k in keys]}


def transition_tis(
    session: Session,
    keys: Iterable[TiKey],
    expected: TaskInstanceState | Iterable[TaskInstanceState],
    new: TaskInstanceState,
    *,
    values: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """Move every task instance of ``keys`` still in ``expected`` to ``new``; return how many moved.

    Keys go in statements of at most KEYS_PER_STATEMENT: PostgreSQL parses a longer list of row
    values (a task mapped over 10,000 items) into an expression too deep for its stack.
    """
    keys = list(keys)
    now = now or utcnow()
    moved = 0
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        proposal = TiProposal(session, keys[start:start + KEYS_PER_STATEMENT], _as_set(expected),
                              TaskInstanceState(new), dict(values or {}), now)
        moved += _apply_ti(proposal)
    return moved


KEYS_PER_STATEMENT = 1000


def transition_ti(
    session: Session,
    key: TiKey,
    expected: TaskInstanceState | Iterable[TaskInstanceState],
    new: TaskInstanceState,
    *,
    try_number: int | None = None,
    values: dict[str, Any] | None = None,
    retry: RetryParams | None = None,
    guard: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> TaskInstanceState | None:
    """CAS one task instance; return the state it ended in, or None if the CAS lost.

    The returned state can differ from ``new`` when a rule amended the proposal (a failure with
    tries left becomes ``up_for_retry``). ``guard`` adds column values the row must still have.
    """
    proposal = TiProposal(
        session, [key], _as_set(expected), TaskInstanceState(new), dict(values or {}), now or utcnow(),
        try_number=try_number, retry=retry, guard=dict(guard or {}),
    )
    return proposal.new if _apply_ti(proposal) == 1 else None


def _apply_ti(p: TiProposal) -> int:
    for rule in TI_POLICY:
        if rule.applies(p.expected, p.new):
            rule.before_transition(p)
    _check_ti_edges(p.expected, p.new)
    p.values.update(state=p.new.value, updated_at=p.now)
    shape, params = _key_params(p.keys)
    columns = tuple(sorted(p.values))
    guard = tuple(sorted(p.guard))
    statement = _ti_update(shape, tuple(sorted(s.value for s in p.expected)), p.try_number is not None, guard, columns)
    params.update({f"v_{col}": p.values[col] for col in columns})
    params.update({f"g_{col}": p.guard[col] for col in guard})
    if p.try_number is not None:
        params["k_try_number"] = p.try_number
    result = p.session.execute(statement, params)
    changed: int = result.rowcount  # type: ignore[attr-defined]
    if changed:
        for rule in TI_POLICY:
            if rule.applies(p.expected, p.new):
                rule.after_transition(p, changed)
    return changed


def transition_run(
    session: Session,
    dag_id: str,
    run_id: str,
    expected: DagRunState | Iterable[DagRunState],
    new: DagRunState,
    *,
    values: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """CAS one DAG run; True when this caller made the change."""
    exp = frozenset({DagRunState(expected)}) if isinstance(expected, str) else frozenset(map(DagRunState, expected))
    new = DagRunState(new)
    bad = sorted(s.value for s in exp if not run_allowed(s, new))
    if bad:
        raise InvalidTransition(f"DAG run cannot go from {', '.join(bad)} to {new.value}")
    p = RunProposal(session, dag_id, run_id, exp, new, dict(values or {}), now or utcnow())
    for rule in RUN_POLICY:
        if rule.applies(p.expected, p.new):
            rule.before_transition(p)
    p.values.update(state=p.new.value, updated_at=p.now)
    c = _RUN.c
    result = session.execute(
        sa.update(_RUN).where(c.dag_id == dag_id, c.run_id == run_id, c.state.in_([s.value for s in exp]))
        .values(**p.values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
