"""The order of one merge pass: keyed tables, then DAG runs, then placeholder ``dag`` rows."""

from __future__ import annotations

import importlib

import sqlalchemy as sa

from tandem.db.merge import rows
from tandem.db.merge.context import MergeContext
from tandem.db.merge.keyed import KeyedTable, merge_keyed, merge_tokens
from tandem.db.merge.runs import merge_runs
from tandem.models import Connection, DagModel, Pool, Variable


def _user_tables(ctx: MergeContext) -> dict[str, sa.Table]:
    """Role, User and ApiToken tables when their models exist and both databases have them."""
    try:
        module = importlib.import_module("tandem.models.user")
    except ImportError:
        return {}
    tables = {name: rows.table_of(getattr(module, name)) for name in ("Role", "User", "ApiToken") if hasattr(module, name)}
    on_both = set(sa.inspect(ctx.source).get_table_names()) & set(sa.inspect(ctx.target).get_table_names())
    return {name: t for name, t in tables.items() if t.name in on_both}


def _merge_users(ctx: MergeContext) -> None:
    tables = _user_tables(ctx)
    if "Role" in tables:
        merge_keyed(ctx, KeyedTable(tables["Role"], "name", renamable=False))
    if "User" not in tables:
        return
    user_ids = merge_keyed(ctx, KeyedTable(tables["User"], "username", surrogate="id", volatile=("last_login",)))
    if "ApiToken" in tables:
        merge_tokens(ctx, tables["ApiToken"], tables["User"], user_ids)


def _add_dag_stubs(ctx: MergeContext) -> None:
    """A paused ``dag`` row per imported DAG id that has none, so the UI lists its runs.

    The rest of the DAG's metadata comes from its file, through the DAG processor.
    """
    dag = rows.table_of(DagModel)
    ids = sorted(ctx.dag_ids)
    existing: set[str] = set()
    for i in range(0, len(ids), ctx.batch_size):
        existing.update(ctx.target.execute(sa.select(dag.c.dag_id).where(
            dag.c.dag_id.in_(ids[i:i + ctx.batch_size]))).scalars())
    missing = [d for d in ids if d not in existing]
    ctx.report.dag_stubs = missing
    if ctx.write:
        rows.insert_rows(ctx.target, dag, [
            {"dag_id": d, "is_paused": True, "is_active": True, "fileloc": "", "owners": "", "tags": [],
             "timetable_summary": "", "max_active_runs": 16, "max_active_tasks": 16, "has_import_errors": False}
            for d in missing
        ])


def run_merge(ctx: MergeContext) -> None:
    _merge_users(ctx)
    for spec in (KeyedTable(rows.table_of(Pool), "name"), KeyedTable(rows.table_of(Variable), "key"),
                 KeyedTable(rows.table_of(Connection), "conn_id")):
        merge_keyed(ctx, spec)
    merge_runs(ctx)
    _add_dag_stubs(ctx)
