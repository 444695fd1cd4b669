"""The grid view's data: the latest runs as columns, the DAG's tasks and groups as rows.

The page carries a compact payload that ``static/grid.js`` draws: one character per cell
(``CODES``), so a 200-task DAG with 50 runs is about 10 KB of cells. Cells come from one
GROUP BY over the shown runs, never one query per task. A mapped task's cell is the most
telling state of its instances (``SUMMARY_ORDER``) with counts per state; its rows per map
index are fetched when the user opens it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import DagRun, TaskInstance

# When a mapped task's instances (or a group's tasks) differ, the summary shows the first of these found.
SUMMARY_ORDER = ["failed", "upstream_failed", "up_for_retry", "running", "queued", "scheduled", "deferred",
                 "none", "removed", "skipped", "success"]
ACTIVE_TI_STATES = frozenset({"running", "queued", "scheduled", "up_for_retry", "deferred"})
ACTIVE_RUN_STATES = frozenset({"queued", "running"})
# One character per state; "." is a task with no instance in that run (added to the DAG later).
CODES = {"success": "s", "failed": "f", "upstream_failed": "F", "up_for_retry": "u", "running": "r",
         "queued": "q", "scheduled": "c", "deferred": "d", "none": "n", "removed": "x", "skipped": "k",
         "restarting": "R"}
ABSENT = "."
STATE_OF = {code: state for state, code in CODES.items()}


def summary_state(states: list[str]) -> str:
    if not states:
        return "none"
    present = set(states)
    return next((s for s in SUMMARY_ORDER if s in present), states[0])


def code(state: str) -> str:
    return CODES.get(state, "n")


def latest_runs(session: Session, dag_id: str, limit: int) -> list[DagRun]:
    runs = session.execute(
        sa.select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.logical_date.desc()).limit(limit)
    ).scalars().all()
    return list(reversed(runs))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def run_summary(run: DagRun) -> dict[str, Any]:
    duration = (run.end_date - run.start_date).total_seconds() if run.start_date and run.end_date else None
    return {"run_id": run.run_id, "state": run.state, "run_type": run.run_type,
            "logical_date": _iso(run.logical_date), "start_date": _iso(run.start_date),
            "end_date": _iso(run.end_date), "duration": duration,
            "bundle_name": run.bundle_name, "bundle_version": run.bundle_version}


def ordered_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Groups and tasks as a tree in display order: a group's row, then its members, depth first.

    Tasks keep their topological order; a group sits where its first task would.
    """
    groups = {g: v for g, v in (data.get("task_groups") or {}).items() if g}
    tasks = data.get("tasks", [])
    position = {t["task_id"]: i for i, t in enumerate(tasks)}
    first: dict[str, int] = {}  # a group's place: that of the first task anywhere below it
    for task in tasks:
        group = task.get("task_group") or ""
        while group:
            first.setdefault(group, position[task["task_id"]])
            group = (groups.get(group) or {}).get("parent") or ""
    rows: list[dict[str, Any]] = []

    def walk(group: str, depth: int) -> None:
        members: list[tuple[int, str, Any]] = [(position[t["task_id"]], "task", t) for t in tasks
                                               if (t.get("task_group") or "") == group]
        members += [(first[g], "group", g) for g, info in groups.items()
                    if (info.get("parent") or "") == group and g in first]
        for _, kind, item in sorted(members, key=lambda m: m[0]):
            if kind == "group":
                rows.append({"id": item, "kind": "group", "depth": depth, "parent": group,
                             "label": item.rsplit(".", 1)[-1]})
                walk(item, depth + 1)
            else:
                rows.append({"id": item["task_id"], "kind": "task", "depth": depth, "parent": group,
                             "label": item["task_id"].rsplit(".", 1)[-1], "op": item.get("operator", ""),
                             "mapped": bool(item.get("mapped"))})

    walk("", 0)
    return rows


def grid_cells(session: Session, dag_id: str, run_ids: list[str]) -> tuple[dict[tuple[str, str], str],
                                                                         dict[tuple[str, str], Counter[str]]]:
    """Per (task, run): the state of its unmapped (or not yet expanded) instance, and the counts of
    states of its expanded instances. One query over the runs shown, read as plain tuples."""
    single: dict[tuple[str, str], str] = {}
    expanded: dict[tuple[str, str], Counter[str]] = {}
    if not run_ids:
        return single, expanded
    for task_id, run_id, map_index, state in session.execute(
        sa.select(TaskInstance.task_id, TaskInstance.run_id, TaskInstance.map_index, TaskInstance.state)
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(run_ids))
    ):
        if map_index < 0:
            single[(task_id, run_id)] = state or "none"
        else:
            expanded.setdefault((task_id, run_id), Counter())[state or "none"] += 1
    return single, expanded


def grid_payload(session: Session, dag_id: str, data: dict[str, Any], *, limit: int = 25) -> dict[str, Any]:
    """Everything the grid draws, compact: see the module docstring."""
    runs = latest_runs(session, dag_id, limit)
    run_ids = [r.run_id for r in runs]
    single, expanded = grid_cells(session, dag_id, run_ids)
    rows = ordered_rows(data)
    active = any(r.state in ACTIVE_RUN_STATES for r in runs) or any(
        s in ACTIVE_TI_STATES for s in single.values()) or any(
        s in ACTIVE_TI_STATES for c in expanded.values() for s in c)
    for row in rows:
        if row["kind"] != "task":
            continue
        task_id = row["id"]
        codes = []
        counts: list[dict[str, int] | None] = []
        for run_id in run_ids:
            found = expanded.get((task_id, run_id)) if row["mapped"] else None
            if found:  # once a mapped task has expanded, its placeholder no longer counts
                codes.append(code(summary_state(list(found))))
                counts.append({code(s): n for s, n in found.items()})
                continue
            state = single.get((task_id, run_id))
            codes.append(ABSENT if state is None else CODES.get(state, "n"))
            counts.append(None)
        row["cells"] = "".join(codes)
        if row["mapped"]:
            row["counts"] = counts
    return {"dag_id": dag_id, "codes": STATE_OF, "order": "".join(code(s) for s in SUMMARY_ORDER),
            "runs": [run_summary(r) for r in runs], "rows": rows, "active": active, "limit": limit}


def mapped_rows(session: Session, dag_id: str, task_id: str, run_ids: list[str]) -> list[dict[str, Any]]:
    """One row per map index of ``task_id`` over ``run_ids``: its cells as codes."""
    if not run_ids:
        return []
    found: dict[int, dict[str, str]] = {}
    for map_index, run_id, state in session.execute(
        sa.select(TaskInstance.map_index, TaskInstance.run_id, TaskInstance.state)
        .where(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id,
               TaskInstance.run_id.in_(run_ids), TaskInstance.map_index >= 0)
    ):
        found.setdefault(map_index, {})[run_id] = state
    return [{"map_index": i, "cells": "".join(code(found[i][r]) if r in found[i] else ABSENT for r in run_ids)}
            for i in sorted(found)]
