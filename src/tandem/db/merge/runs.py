"""DAG runs with their task instances, task tries and XComs, walked in batches of runs.

A run and its children are one unit: they are identical to this side's run only when the
run row (but its surrogate id) and every child row are equal. Equality is checked with an
order-independent digest (a sum of row hashes), so no dialect's collation order matters and
no batch holds more than its runs' digests in memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tandem.db.merge import rows
from tandem.db.merge.context import MergeContext
from tandem.models import DagRun, TaskInstance, TaskTry, XCom
from tandem.models.base import ID_LEN

RUN = rows.table_of(DagRun)
CHILDREN = (rows.table_of(TaskInstance), rows.table_of(TaskTry), rows.table_of(XCom))
# Left out of a run's digest so that a run renamed by an earlier merge still matches its source.
IDENTITY = ("id", "run_id", "logical_date", "backfill_id")
RunKey = tuple[str, str]
INSERT_CHUNK = 1000


@dataclass
class RunDigest:
    value: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def short(self) -> str:
        return f"{self.value:064x}"[:8]


@dataclass(frozen=True)
class RunImport:
    row: dict[str, Any]
    run_id: str
    logical_date: datetime


def _key(row: Mapping[Any, Any]) -> RunKey:
    return row["dag_id"], row["run_id"]


def _children_of(child: sa.Table, keys: Iterable[RunKey]) -> sa.Select[Any]:
    """A superset of the rows of ``keys`` in ``child`` (or dag_run); callers drop the others.

    Two plain INs instead of a row-value ``(dag_id, run_id) IN (...)``, which PostgreSQL
    plans poorly for hundreds of tuples; both use the primary key's leading columns.
    """
    keys = list(keys)
    return sa.select(child).where(child.c.dag_id.in_({d for d, _ in keys}), child.c.run_id.in_({r for _, r in keys}))


def run_digests(conn: sa.Connection, runs: list[dict[str, Any]]) -> dict[RunKey, RunDigest]:
    out = {_key(r): RunDigest(rows.row_digest(RUN.name, r, IDENTITY)) for r in runs}
    if not out:
        return out
    for child in CHILDREN:
        for row in rows.streamed(conn, _children_of(child, out)):
            digest = out.get(_key(row))
            if digest is None:
                continue  # the superset query's extra rows
            digest.value = (digest.value + rows.row_digest(child.name, row, ("run_id",))) % (1 << 256)
            digest.counts[child.name] = digest.counts.get(child.name, 0) + 1
    return out


def _read_run(conn: sa.Connection, dag_id: str, *, run_id: str | None = None,
              logical_date: datetime | None = None) -> dict[str, Any] | None:
    stmt = sa.select(RUN).where(RUN.c.dag_id == dag_id)
    stmt = stmt.where(RUN.c.run_id == run_id) if run_id is not None else stmt.where(RUN.c.logical_date == logical_date)
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def _free_logical_date(ctx: MergeContext, dag_id: str, start: datetime) -> datetime:
    """The first date from ``start`` on, in 1 µs steps, that no run here, there or renamed uses."""
    date = start
    while ((dag_id, date) in ctx.claimed_dates or _read_run(ctx.target, dag_id, logical_date=date)
           or _read_run(ctx.source, dag_id, logical_date=date)):
        date += timedelta(microseconds=1)
    return date


def _rename(ctx: MergeContext, row: dict[str, Any], digest: RunDigest) -> tuple[str, RunImport | None]:
    """``<run_id>__merged_<digest>``: the same source run always gets the same name, so a second
    merge finds it and imports nothing."""
    dag_id = row["dag_id"]
    for n in itertools.count(1):
        suffix = f"__merged_{digest.short}" + ("" if n == 1 else f"_{n}")
        candidate = row["run_id"][: ID_LEN - len(suffix)] + suffix
        if (RUN.name, dag_id, candidate) in ctx.claimed or _read_run(ctx.source, dag_id, run_id=candidate):
            continue
        theirs = _read_run(ctx.target, dag_id, run_id=candidate)
        if theirs is None:
            date = _free_logical_date(ctx, dag_id, row["logical_date"])
            ctx.claimed.add((RUN.name, dag_id, candidate))
            ctx.claimed_dates.add((dag_id, date))
            text = f"imported as run_id {candidate!r}"
            if date != row["logical_date"]:
                text += f", logical_date {date.isoformat()}"
            return text, RunImport(row, candidate, date)
        if run_digests(ctx.target, [theirs])[(dag_id, candidate)].value == digest.value:
            return f"already imported as run_id {candidate!r} by an earlier merge", None
    raise AssertionError("unreachable")


def _reason(row: dict[str, Any], by_id: dict[str, Any] | None, by_date: dict[str, Any] | None) -> str:
    if by_id is None:
        assert by_date is not None
        return f"same logical_date {row['logical_date'].isoformat()} as this side's run {by_date['run_id']!r}"
    columns = rows.differing_columns(row, by_id, ("id",))
    reason = f"same run_id, different {', '.join(columns)}" if columns else \
        "same run_id, different task instances, tries or XComs"
    if by_date is not None and by_date["id"] != by_id["id"]:
        reason += f"; logical_date also used by run {by_date['run_id']!r}"
    return reason


def _copy(ctx: MergeContext, imports: list[RunImport]) -> None:
    """Write runs, then their children streamed from the source with run_id rewritten."""
    if not ctx.write or not imports:
        return
    # backfill_id names a backfill of the source instance; backfills are not merged.
    rows.insert_rows(ctx.target, RUN, [
        {k: v for k, v in i.row.items() if k not in ("id", "backfill_id")}
        | {"run_id": i.run_id, "logical_date": i.logical_date}
        for i in imports
    ])
    new_ids = {_key(i.row): i.run_id for i in imports}
    for child in CHILDREN:
        chunk: list[dict[str, Any]] = []
        for row in rows.streamed(ctx.source, _children_of(child, new_ids)):
            if _key(row) not in new_ids:
                continue
            row["run_id"] = new_ids[_key(row)]
            chunk.append(row)
            if len(chunk) >= INSERT_CHUNK:
                rows.insert_rows(ctx.target, child, chunk)
                chunk = []
        rows.insert_rows(ctx.target, child, chunk)


def _count(ctx: MergeContext, digest: RunDigest, field_name: str) -> None:
    setattr(ctx.report.table(RUN.name), field_name, getattr(ctx.report.table(RUN.name), field_name) + 1)
    for child in CHILDREN:
        counts = ctx.report.table(child.name)
        setattr(counts, field_name, getattr(counts, field_name) + digest.counts.get(child.name, 0))


def _target_matches(ctx: MergeContext, batch: list[dict[str, Any]]) -> tuple[dict[RunKey, dict[str, Any]],
                                                                               dict[tuple[str, datetime], dict[str, Any]]]:
    keys = {_key(r) for r in batch}
    found = ctx.target.execute(_children_of(RUN, keys)).mappings()
    by_id = {_key(r): dict(r) for r in found if _key(r) in keys}
    # A superset (any of these dags at any of these dates), narrowed in Python.
    wanted = {(r["dag_id"], r["logical_date"]) for r in batch}
    by_date = {}
    for r in ctx.target.execute(sa.select(RUN).where(
            RUN.c.dag_id.in_({d for d, _ in wanted}), RUN.c.logical_date.in_({t for _, t in wanted}))).mappings():
        if (r["dag_id"], r["logical_date"]) in wanted:
            by_date[(r["dag_id"], r["logical_date"])] = dict(r)
    return by_id, by_date


def merge_runs(ctx: MergeContext) -> None:
    for table in (RUN, *CHILDREN):
        ctx.report.table(table.name)  # summary lists them even when empty
    total, done = rows.count_rows(ctx.source, RUN), 0
    for batch in rows.keyset_batches(ctx.source, RUN, "id", ctx.batch_size):
        ours = run_digests(ctx.source, batch)
        by_id, by_date = _target_matches(ctx, batch)
        theirs = run_digests(ctx.target, list({r["id"]: r for r in [*by_id.values(), *by_date.values()]}.values()))
        imports: list[RunImport] = []
        for row in batch:
            key, digest = _key(row), ours[_key(row)]
            same_id, same_date = by_id.get(key), by_date.get((row["dag_id"], row["logical_date"]))
            if same_id is None and same_date is None:
                imports.append(RunImport(row, row["run_id"], row["logical_date"]))
                _count(ctx, digest, "imported")
            elif (same_id is not None and same_date is not None and same_id["id"] == same_date["id"]
                  and theirs[key].value == digest.value):
                _count(ctx, digest, "present")
            else:
                _conflict(ctx, row, digest, _reason(row, same_id, same_date), imports)
        _copy(ctx, imports)
        ctx.dag_ids.update(i.row["dag_id"] for i in imports)
        done += len(batch)
        ctx.progress(RUN.name, done, total)


def _conflict(ctx: MergeContext, row: dict[str, Any], digest: RunDigest, reason: str,
              imports: list[RunImport]) -> None:
    _count(ctx, digest, "conflicts")
    label = f"{row['dag_id']} / {row['run_id']}"
    if ctx.policy != "rename":
        ctx.conflict(RUN.name, label, reason, "kept this side's" if ctx.policy == "skip" else "none: merge refused")
        return
    resolution, new = _rename(ctx, row, digest)
    if new is None:
        _count(ctx, digest, "present")
    else:
        imports.append(new)
        _count(ctx, digest, "imported")
        _count(ctx, digest, "renamed")
    ctx.conflict(RUN.name, label, reason, resolution)
