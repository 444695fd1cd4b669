"""The XComs a try's arguments pull, read by its supervisor before the fork.

A forked child that pulls an XCom must first open a database connection of its own: a new
server backend, its catalog caches cold, and statements compiled afresh, several milliseconds
on every TaskFlow hop and every mapped instance. Its supervisor already holds a warm
connection and knows, from the imported DAG, which XComs the task's arguments reference
(``op_args``/``op_kwargs``, template fields, ``expand``/``expand_kwargs`` and a mapped task
group's arguments). It reads those rows once per claimed batch, after it has forked the
claimed tries, and sends each child its run's rows over the child's pipe. Only what the task's
code pulls itself (``ti.xcom_pull`` in its body) still goes to the database.

The read comes after the fork because a claimed try has no heartbeat but its child's: a read
stalled before the fork (a black-holed connection) would get it reaped as a zombie. A child
that does not receive its rows in time reads them itself. The rows are read after the claim
committed, so they are what the child would have read a moment later: an upstream's XCom
changes only if that upstream is cleared and runs again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import XCom

#: (task_id, key) -> {map_index: value}: every row of that XCom in the try's run.
Prefetched = dict[tuple[str, str], dict[int, Any]]


def xcom_inputs(task: Any) -> set[tuple[str, str]]:
    """The (task_id, key) XComs that resolving ``task``'s arguments reads."""
    from tandem.sdk.xcom_arg import iter_xcom_args

    if task.is_mapped:
        values = [*task.expand_input.values(), *task.partial_kwargs.values()]
    else:
        values = [getattr(task, field, None) for field in task.reference_fields()]
    group = task.mapped_task_group()
    if group is not None:
        values += list((group.expand_input or {}).values())
    return {pulled for value in values for arg in iter_xcom_args(value) for pulled in arg.pulled()}


_ROWS = (
    sa.select(XCom.task_id, XCom.key, XCom.map_index, XCom.value)
    .where(XCom.dag_id == sa.bindparam("dag_id"), XCom.run_id == sa.bindparam("run_id"),
           XCom.task_id.in_(sa.bindparam("task_ids", expanding=True)))
)


def read_xcoms(session: Session, dag_id: str, run_id: str, wanted: Iterable[tuple[str, str]]) -> Prefetched:
    """Every row of the ``wanted`` XComs of one run; an XCom with no row is left out."""
    wanted = set(wanted)
    rows: Prefetched = defaultdict(dict)
    if not wanted:
        return {}
    for task_id, key, map_index, value in session.execute(
            _ROWS, {"dag_id": dag_id, "run_id": run_id, "task_ids": sorted({t for t, _ in wanted})}):
        if (task_id, key) in wanted:
            rows[(task_id, key)][map_index] = value
    return dict(rows)
