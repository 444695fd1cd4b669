"""Tables keyed by a name: roles, users (with their API tokens), pools, variables, connections.

A source row whose key is free is imported; one equal to this side's row (secrets compared
by plain text) is already present; any other is a conflict resolved by the policy.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tandem.db.merge import rows
from tandem.db.merge.context import MergeContext


@dataclass(frozen=True)
class KeyedTable:
    table: sa.Table
    key: str
    # A surrogate integer id: neither compared nor copied (the target numbers its own rows).
    surrogate: str | None = None
    # Columns that change by themselves (last login): copied but not compared.
    volatile: tuple[str, ...] = ()
    # Renaming makes no sense when other rows refer to the key (roles by users).
    renamable: bool = True

    @property
    def name(self) -> str:
        return self.table.name


def _secret_columns(table: str, row: dict[str, Any]) -> list[str]:
    if table == "variable":
        return ["val"] if row.get("is_encrypted") else []
    if table == "connection":
        return [c for c in ("password", "extra") if row.get(c) is not None]
    return []


def _what(spec: KeyedTable, key: str, column: str) -> str:
    return f"{spec.name} {key!r}" + (f" {column}" if spec.name == "connection" else "")


def _comparable(ctx: MergeContext, spec: KeyedTable, row: dict[str, Any], *, source: bool) -> dict[str, Any]:
    view = dict(row)
    for column in _secret_columns(spec.name, row):
        token = row[column]
        view[column] = (ctx.secrets.source_plain(token, _what(spec, row[spec.key], column)) if source
                        else ctx.secrets.target_plain(token))
    # How a value is stored (encrypted or not) is not part of what it is.
    exclude = {spec.key, "is_encrypted", *spec.volatile, *([spec.surrogate] if spec.surrogate else [])}
    return rows.row_view(view, exclude)


def _differences(ctx: MergeContext, spec: KeyedTable, ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    a = _comparable(ctx, spec, ours, source=True)
    b = _comparable(ctx, spec, theirs, source=False)
    return [k for k in a if a[k] != b.get(k)]


def _reason(spec: KeyedTable, theirs: dict[str, Any], ours: dict[str, Any], columns: list[str]) -> str:
    parts = []
    for column in columns:
        if column in _secret_columns(spec.name, ours) or column in ("val", "password", "extra", "password_hash"):
            parts.append(f"{column} differs")  # never print secrets
        else:
            parts.append(f"{column}: this side {theirs.get(column)!r}, other {ours.get(column)!r}")
    return "; ".join(parts)


def _importable(ctx: MergeContext, spec: KeyedTable, row: dict[str, Any], key: str) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != spec.surrogate}
    for column in _secret_columns(spec.name, row):
        out[column] = ctx.secrets.reencrypt(row[column], _what(spec, row[spec.key], column))
    out[spec.key] = key
    return out


def _insert(ctx: MergeContext, spec: KeyedTable, row: dict[str, Any], key: str) -> int | None:
    """Write one row (apply only); return its new surrogate id when the table has one."""
    values = _importable(ctx, spec, row, key)  # also checks secrets in a dry run
    if not ctx.write:
        return None
    if spec.surrogate:
        result = ctx.target.execute(spec.table.insert().values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]
    rows.insert_rows(ctx.target, spec.table, [values])
    return None


def _read(conn: sa.Connection, spec: KeyedTable, key: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(spec.table).where(spec.table.c[spec.key] == key)).mappings().first()
    return dict(row) if row is not None else None


def _rename(ctx: MergeContext, spec: KeyedTable, row: dict[str, Any]) -> tuple[str, bool, int | None]:
    """Import under ``<key>__merged`` (then ``__merged_2``...); reuse an equal row from an earlier merge.

    Returns (resolution text, whether a row was written, target surrogate id).
    """
    key = row[spec.key]
    length = getattr(spec.table.c[spec.key].type, "length", None) or 250
    for n in itertools.count(1):
        suffix = "__merged" if n == 1 else f"__merged_{n}"
        candidate = key[: length - len(suffix)] + suffix
        if (spec.name, candidate) in ctx.claimed or _read(ctx.source, spec, candidate) is not None:
            continue
        theirs = _read(ctx.target, spec, candidate)
        if theirs is None:
            ctx.claimed.add((spec.name, candidate))
            new_id = _insert(ctx, spec, row, candidate)
            return f"imported as {candidate!r}", True, new_id
        if not _differences(ctx, spec, row, theirs):
            surrogate = theirs[spec.surrogate] if spec.surrogate else None
            return f"already imported as {candidate!r} by an earlier merge", False, surrogate
    raise AssertionError("unreachable")


def merge_keyed(ctx: MergeContext, spec: KeyedTable) -> dict[int, int | None]:
    """Walk one keyed table; return source surrogate id -> target id (None: not written yet)."""
    counts = ctx.report.table(spec.name)
    total, done = rows.count_rows(ctx.source, spec.table), 0
    ids: dict[int, int | None] = {}
    for batch in rows.keyset_batches(ctx.source, spec.table, spec.key, ctx.batch_size):
        keys = [r[spec.key] for r in batch]
        existing = {r[spec.key]: dict(r) for r in ctx.target.execute(
            sa.select(spec.table).where(spec.table.c[spec.key].in_(keys))).mappings()}
        for row in batch:
            key, theirs = row[spec.key], existing.get(row[spec.key])
            target_id: int | None = None
            if theirs is None:
                target_id = _insert(ctx, spec, row, key)
                counts.imported += 1
            elif not (columns := _differences(ctx, spec, row, theirs)):
                counts.present += 1
                target_id = theirs[spec.surrogate] if spec.surrogate else None
            else:
                counts.conflicts += 1
                reason = _reason(spec, theirs, row, columns)
                if ctx.policy == "rename" and spec.renamable:
                    resolution, written, target_id = _rename(ctx, spec, row)
                    counts.imported += written
                    counts.renamed += written
                    counts.present += not written
                else:
                    resolution = "kept this side's" if ctx.policy != "fail" else "none: merge refused"
                    if ctx.policy == "rename":
                        resolution += f" ({spec.name} rows are never renamed)"
                    target_id = -1  # not imported: its children are not either
                ctx.conflict(spec.name, key, reason, resolution)
            if spec.surrogate and target_id != -1:
                ids[row[spec.surrogate]] = target_id
        done += len(batch)
        ctx.progress(spec.name, done, total)
    return ids


def merge_tokens(ctx: MergeContext, tokens: sa.Table, users: sa.Table, user_ids: dict[int, int | None]) -> None:
    """API tokens follow their user: imported with the user's id on this side, matched by hash."""
    counts = ctx.report.table(tokens.name)
    names = dict(ctx.source.execute(sa.select(users.c.id, users.c.username)).all())
    for batch in rows.keyset_batches(ctx.source, tokens, "id", ctx.batch_size):
        existing = {r["token_hash"]: dict(r) for r in ctx.target.execute(
            sa.select(tokens).where(tokens.c.token_hash.in_([r["token_hash"] for r in batch]))).mappings()}
        new_rows = []
        for row in batch:
            label = f"{names.get(row['user_id'], row['user_id'])}/{row['prefix']}"
            if row["user_id"] not in user_ids:
                # Its user conflicted and was kept as this side's: that conflict is listed; under
                # ``fail`` nothing is imported anyway, under ``skip`` say what became of the token.
                counts.conflicts += 1
                if ctx.policy == "skip":
                    ctx.conflict(tokens.name, label, "its user conflicted", "not imported (its user was skipped)")
                continue
            theirs = existing.get(row["token_hash"])
            target_user = user_ids[row["user_id"]]
            if theirs is None:
                counts.imported += 1
                new_rows.append({k: v for k, v in row.items() if k != "id"} | {"user_id": target_user})
            elif target_user is not None and theirs["user_id"] == target_user:
                counts.present += 1
            else:
                counts.conflicts += 1
                ctx.conflict(tokens.name, label, "the same token belongs to another user here", "kept this side's")
        if ctx.write:
            rows.insert_rows(ctx.target, tokens, new_rows)

