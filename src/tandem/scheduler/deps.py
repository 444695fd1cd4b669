"""Deciding, for one DAG run, which task instances to schedule, skip or fail upstream.

Pure: takes the run's task instance states and the branch/short-circuit signals that tasks
pushed, returns a plan. Tasks are visited in topological order and each decision updates the
local view, so a chain of skips or upstream failures settles in one pass.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tandem.orchestration import TiKey
from tandem.scheduler.dag_data import DagData
from tandem.scheduler.trigger_rules import Decision, decide
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


def forced_skips(dag: DagData, states: dict[str, list[str]], signals: dict[tuple[str, str], Any]) -> set[str]:
    """Tasks that a finished branch or short-circuit task decided to skip."""
    skip: set[str] = set()
    for task_id, task in dag.tasks.items():
        if S.SUCCESS.value not in states.get(task_id, ()):
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
    plan = Plan()
    by_task: dict[str, list[TiView]] = defaultdict(list)
    for ti in tis:
        by_task[ti.task_id].append(ti)
    current: dict[tuple[str, int], str] = {(ti.task_id, ti.map_index): ti.state for ti in tis}

    def states_of(task_id: str) -> list[str]:
        return [current[(task_id, ti.map_index)] for ti in by_task.get(task_id, ())]

    skip = forced_skips(dag, {t: states_of(t) for t in dag.tasks}, signals)
    for task_id in dag.order:
        task = dag.tasks[task_id]
        for ti in by_task.get(task_id, ()):
            state = current[(task_id, ti.map_index)]
            if state == S.UP_FOR_RETRY:
                if ti.next_retry_at is None or ti.next_retry_at <= now:
                    plan.schedule.append((task_id, ti.map_index, state))
                    current[(task_id, ti.map_index)] = S.SCHEDULED.value
                continue
            if state != S.NONE:
                continue
            if task_id in skip:
                decision = Decision.SKIP
            else:
                upstream_ids = _deciding_upstream(dag, task_id, ti.map_index, current)
                upstream = [s for u, m in upstream_ids for s in ([current[(u, m)]] if m is not None else states_of(u))]
                setups = [s for u in dag.upstream(task_id) if dag.tasks[u].get("is_setup") for s in states_of(u)]
                decision = decide(task.get("trigger_rule") or "all_success", upstream, setups)
            if decision is Decision.SKIP:
                plan.skip.append((task_id, ti.map_index))
                current[(task_id, ti.map_index)] = S.SKIPPED.value
            elif decision is Decision.UPSTREAM_FAILED:
                plan.upstream_failed.append((task_id, ti.map_index))
                current[(task_id, ti.map_index)] = S.UPSTREAM_FAILED.value
            elif decision is Decision.READY:
                if task_id in dag.mapped and ti.map_index < 0:
                    plan.expand.append(task_id)
                    current[(task_id, ti.map_index)] = S.SCHEDULED.value  # not done until expanded
                    continue
                if task.get("depends_on_past"):
                    plan.check_past.add(task_id)
                plan.schedule.append((task_id, ti.map_index, state))
                current[(task_id, ti.map_index)] = S.SCHEDULED.value
    if not plan.expand:
        plan.run_state = _run_outcome(dag, current)
    return plan


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
