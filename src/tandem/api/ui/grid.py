"""The grid view's data: the latest runs as columns, the DAG's tasks as rows.

A mapped task has one summary row (the most telling state of its instances, with counts) that
expands into one row per map index.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import DagRun, TaskInstance

# When a mapped task's instances differ, the summary shows the first state of this list found.
SUMMARY_ORDER = ["failed", "upstream_failed", "up_for_retry", "running", "queued", "scheduled", "deferred",
                 "none", "removed", "skipped", "success"]
ACTIVE_TI_STATES = frozenset({"running", "queued", "scheduled", "up_for_retry", "deferred"})
ACTIVE_RUN_STATES = frozenset({"queued", "running"})


def summary_state(states: list[str]) -> str:
    if not states:
        return "none"
    present = set(states)
    return next((s for s in SUMMARY_ORDER if s in present), states[0])


@dataclass
class Cell:
    run_id: str
    state: str
    map_index: int = -1
    counts: dict[str, int] = field(default_factory=dict)
    duration: float | None = None
    try_number: int = 0


@dataclass
class Row:
    task_id: str
    group: str
    depth: int
    is_mapped: bool
    cells: list[Cell]
    children: list[Row] = field(default_factory=list)


@dataclass
class Grid:
    runs: list[DagRun]
    rows: list[Row]

    @property
    def active(self) -> bool:
        """True while a shown run or task instance is still moving: the page then refreshes itself."""
        if any(r.state in ACTIVE_RUN_STATES for r in self.runs):
            return True
        return any(c.state in ACTIVE_TI_STATES for row in self.rows for c in row.cells)


def latest_runs(session: Session, dag_id: str, limit: int) -> list[DagRun]:
    runs = session.execute(
        sa.select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.logical_date.desc()).limit(limit)
    ).scalars().all()
    return list(reversed(runs))


def build_grid(session: Session, dag_id: str, data: dict[str, Any], *, limit: int = 25) -> Grid:
    runs = latest_runs(session, dag_id, limit)
    by_key: dict[tuple[str, str], list[TaskInstance]] = {}
    if runs:
        for ti in session.execute(sa.select(TaskInstance).where(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_([r.run_id for r in runs])
        )).scalars():
            by_key.setdefault((ti.task_id, ti.run_id), []).append(ti)
    rows = []
    for task in data.get("tasks", []):
        task_id, group = task["task_id"], task.get("task_group") or ""
        mapped = bool(task.get("mapped"))
        cells, width = [], 0
        for run in runs:
            tis = by_key.get((task_id, run.run_id), [])
            expanded = [t for t in tis if t.map_index >= 0]
            if mapped and expanded:
                width = max(width, max(t.map_index for t in expanded) + 1)
                states = [t.state for t in expanded]
                cells.append(Cell(run.run_id, summary_state(states), counts=dict(Counter(states))))
            elif tis:
                t = tis[0]
                cells.append(Cell(run.run_id, t.state, t.map_index, duration=t.duration, try_number=t.try_number))
            else:
                cells.append(Cell(run.run_id, "absent"))
        row = Row(task_id, group, group.count(".") + 1 if group else 0, mapped, cells)
        for index in range(width):
            child_cells = []
            for run in runs:
                found = next((t for t in by_key.get((task_id, run.run_id), []) if t.map_index == index), None)
                child_cells.append(Cell(run.run_id, found.state if found else "absent", index,
                                        duration=found.duration if found else None,
                                        try_number=found.try_number if found else 0))
            row.children.append(Row(f"{task_id} [{index}]", group, row.depth + 1, False, child_cells))
        rows.append(row)
    return Grid(runs, rows)
