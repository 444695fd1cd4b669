"""Deciding, for one DAG run, which task instances to schedule, skip or fail upstream.

Pure: takes the run's task instance states and the branch/short-circuit signals that tasks
pushed, returns a plan. Tasks are visited in topological order and each decision updates the
local view, so a chain of skips or upstream failures settles in one pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tandem.orchestration import TiKey
from tandem.scheduler.dag_data import DagData
from tandem.scheduler.trigger_rules import Decision, decide_counts
from tandem.state import TI_TERMINAL
from tandem.state import TaskInstanceState as S


@dataclass(frozen=True)
class TiView:
    task_id: str
    map_index: int
    state: str
    next_retry_at: datetime | None = None


@dataclass
class Plan:
    schedule: list[tuple[str, int, str]] = field(default_factory=list)  # (task_id, map_index, from state)
    skip: list[tuple[str, int]] = field(default_factory=list)
    upstream_failed: list[tuple[str, int]] = field(default_factory=list)
    expand: list[str] = field(default_factory=list)
    check_past: set[str] = field(default_factory=set)
    run_state: S | None = None  # SUCCESS/FAILED when every task instance is done

    def keys(self, dag_id: str, run_id: str, items: list[tuple[str, int]]) -> list[TiKey]:
        return [TiKey(dag_id, run_id, t, m) for t, m in items]


#: States of the task instances a plan decides on; every other state is the runners' to change.
OPEN_STATES = (S.NONE.value, S.UP_FOR_RETRY.value)


@dataclass
class RunView:
    """What a plan reads of one run: the open instances it decides on, and state counts
    (per task) of the tasks whose states those decisions look at.

    ``detail`` holds every instance's state when the whole run was read (a complete view):
    only then can a plan decide the run's own outcome, or follow a mapped task group
    instance by instance.
    """

    open: list[TiView]
    counts: dict[str, Counter[str]]
    detail: dict[tuple[str, int], str] | None = None

    @classmethod
    def complete(cls, tis: list[TiView]) -> RunView:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for ti in tis:
            counts[ti.task_id][ti.state] += 1
        return cls([t for t in tis if t.state in OPEN_STATES], counts, {(t.task_id, t.map_index): t.state for t in tis})

    def move(self, task_id: str, map_index: int, old: str, new: str) -> None:
        counts = self.counts[task_id]
        counts[old] -= 1
        counts[new] += 1
        if self.detail is not None:
            self.detail[(task_id, map_index)] = new


def forced_skips(dag: DagData, succeeded: Callable[[str], bool], signals: dict[tuple[str, str], Any]) -> set[str]:
    """Tasks that a finished branch or short-circuit task decided to skip."""
    skip: set[str] = set()
    for task_id in dag.signal_tasks:
        task = dag.tasks[task_id]
        if not succeeded(task_id):
            continue
        if task.get("is_branch") and (task_id, "branch_followed") in signals:
            followed = signals[(task_id, "branch_followed")] or []
            followed = {followed} if isinstance(followed, str) else set(followed)
            skip.update(d for d in dag.downstream(task_id) if d not in followed)
        if task.get("is_short_circuit") and signals.get((task_id, "short_circuit")):
            if task.get("ignore_downstream_trigger_rules", True):
                skip.update(dag.descendants(task_id))
            else:
                skip.update(dag.downstream(task_id))
    return skip


def plan_run(dag: DagData, tis: list[TiView], signals: dict[tuple[str, str], Any], now: datetime) -> Plan:
    """The plan over a complete view of the run (every task instance)."""
    return plan_view(dag, RunView.complete(tis), signals, now)


def plan_view(dag: DagData, view: RunView, signals: dict[tuple[str, str], Any], now: datetime) -> Plan:
    """Decide the open instances of ``view``, in topological order; each decision updates the
    view, so a chain of skips or upstream failures settles in one pass."""
    plan = Plan()
    empty: Counter[str] = Counter()
    skip = forced_skips(dag, lambda t: view.counts.get(t, empty)[S.SUCCESS.value] > 0, signals)
    position = dag.position
    for ti in sorted(view.open, key=lambda t: position.get(t.task_id, -1)):
        task_id, state = ti.task_id, ti.state
        task = dag.tasks.get(task_id)
        if task is None:
            continue
        if state == S.UP_FOR_RETRY:
            if ti.next_retry_at is None or ti.next_retry_at <= now:
                plan.schedule.append((task_id, ti.map_index, state))
                view.move(task_id, ti.map_index, state, S.SCHEDULED.value)
            continue
        if task_id in skip:
            decision = Decision.SKIP
        else:
            upstream = _upstream_counts(dag, view, task_id, ti.map_index)
            setups: Counter[str] = Counter()
            for u in dag.upstream(task_id):
                if dag.tasks[u].get("is_setup"):
                    setups.update(view.counts.get(u, empty))
            decision = decide_counts(task.get("trigger_rule") or "all_success", upstream, setups)
        if decision is Decision.SKIP:
            plan.skip.append((task_id, ti.map_index))
            view.move(task_id, ti.map_index, state, S.SKIPPED.value)
        elif decision is Decision.UPSTREAM_FAILED:
            plan.upstream_failed.append((task_id, ti.map_index))
            view.move(task_id, ti.map_index, state, S.UPSTREAM_FAILED.value)
        elif decision is Decision.READY:
            view.move(task_id, ti.map_index, state, S.SCHEDULED.value)
            if task_id in dag.mapped and ti.map_index < 0:
                plan.expand.append(task_id)  # not done until expanded
                continue
            if task.get("depends_on_past"):
                plan.check_past.add(task_id)
            plan.schedule.append((task_id, ti.map_index, state))
    if not plan.expand and view.detail is not None:
        plan.run_state = _run_outcome(dag, view.detail)
    return plan


def _upstream_counts(dag: DagData, view: RunView, task_id: str, map_index: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    if not dag.tasks[task_id].get("mapped_group"):
        for u in dag.upstream(task_id):
            counts.update(view.counts.get(u, ()))
        return counts
    if view.detail is None:
        raise ValueError(f"task {task_id} is in a mapped task group: its plan needs the run's complete view")
    current = view.detail
    for u, m in _deciding_upstream(dag, task_id, map_index, current):
        if m is not None:
            counts[current[(u, m)]] += 1
        else:
            counts.update(view.counts.get(u, ()))
    return counts


def _deciding_upstream(dag: DagData, task_id: str, map_index: int,
                       current: dict[tuple[str, int], str]) -> list[tuple[str, int | None]]:
    """The upstream instances a task instance's trigger rule looks at: (task_id, map_index), or
    (task_id, None) for all instances of it.

    In a mapped task group, instance i of a task follows instance i of its upstream in the
    group (as in Airflow); the unexpanded placeholder follows only upstreams outside the group,
    once those inside are expanded, so the group's tasks expand as soon as they can.
    """
    group = dag.tasks[task_id].get("mapped_group")
    upstream = dag.upstream(task_id)
    if not group:
        return [(u, None) for u in upstream]
    inside = {u for u in upstream if dag.tasks[u].get("mapped_group") == group}
    if map_index >= 0:
        return [(u, map_index) if u in inside and (u, map_index) in current else (u, None) for u in upstream]
    if any((u, -1) in current for u in inside):  # an upstream in the group is not expanded yet
        return [(u, None) for u in upstream]
    return [(u, None) for u in upstream if u not in inside]


def _run_outcome(dag: DagData, current: dict[tuple[str, int], str]) -> S | None:
    live = {k: s for k, s in current.items() if s != S.REMOVED}
    if not all(S(s) in TI_TERMINAL for s in live.values()):
        return None
    leaf_failed = any(s in (S.FAILED, S.UPSTREAM_FAILED) for (t, _), s in live.items() if t in dag.leaves)
    return S.FAILED if leaf_failed else S.SUCCESS
