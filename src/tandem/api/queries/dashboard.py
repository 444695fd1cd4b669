"""The cluster dashboard's figures: a handful of aggregate queries, whatever the number of DAGs.

Nothing here loops over DAGs or runs: every figure is one grouped query (nodes, queue depth,
outcomes of the last hour in time buckets, import errors, the latest failures).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.cluster.nodes import DEAD, RUNNING, STOPPED
from tandem.models import DagRun, ImportError_, Node, TaskInstance

WINDOW = timedelta(hours=1)
BUCKETS = 12
TI_OUTCOMES = ("success", "failed", "up_for_retry", "upstream_failed", "skipped")
RUN_OUTCOMES = ("success", "failed")
#: Nodes that stopped cleanly stay listed this long; dead ones a day (then `tandem cluster status --all`).
STOPPED_SHOWN = timedelta(minutes=10)
DEAD_SHOWN = timedelta(days=1)
MAX_NODES = 200
RECENT = 10


def node_state(node: Node, now: datetime, timeout: float) -> str:
    """alive, silent (late, not yet declared dead), dead (declared dead by a peer: fenced), stopped."""
    if node.state == RUNNING:
        return "alive" if (now - node.last_heartbeat).total_seconds() <= timeout else "silent"
    return "dead" if node.state == DEAD else str(node.state)


def read_nodes(session: Session, now: datetime, timeout: float) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(Node).where(sa.or_(
            Node.state == RUNNING,
            sa.and_(Node.state == DEAD, Node.last_heartbeat >= now - DEAD_SHOWN),
            sa.and_(Node.state == STOPPED, Node.last_heartbeat >= now - STOPPED_SHOWN),
        )).order_by(Node.role, Node.hostname, Node.started_at).limit(MAX_NODES)
    ).scalars().all()
    nodes = []
    for n in rows:
        details = n.details or {}
        nodes.append({
            "id": n.id, "role": n.role, "hostname": n.hostname, "pid": n.pid, "version": n.version,
            "state": node_state(n, now, timeout), "heartbeat_age_s": round((now - n.last_heartbeat).total_seconds(), 1),
            "config": "differs" if n.divergent else "agrees", "load": details.get("load") or {},
            "queues": list(details.get("queues") or []), "metrics_url": details.get("metrics_url") or "",
            "executor": details.get("executor") or "",
        })
    return nodes


def queue_depths(session: Session, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Queued task instances per queue, and the live workers consuming each."""
    queued = dict(session.execute(
        sa.select(TaskInstance.queue, sa.func.count()).where(TaskInstance.state == "queued")
        .group_by(TaskInstance.queue)
    ).all())
    workers: dict[str, int] = {}
    for n in nodes:
        if n["role"] == "worker" and n["state"] == "alive":
            for q in n["queues"]:
                workers[q] = workers.get(q, 0) + 1
    names = sorted(set(queued) | set(workers))
    return [{"queue": q, "queued": int(queued.get(q, 0)), "workers": workers.get(q, 0)} for q in names]


def _bucketed(session: Session, column: Any, state: Any, states: tuple[str, ...], now: datetime) -> dict[str, Any]:
    """Counts by state per five-minute bucket of the last hour (oldest first), in one query.

    Grouped by bucket first, then state: planners then read only the last hour's rows through
    the time column's index (grouping by state first leads them to the states' index, which
    matches nearly every row). The bucket is one CASE per row, portable to every dialect.
    """
    start = now - WINDOW
    step = WINDOW / BUCKETS
    edges = [start + step * i for i in range(1, BUCKETS)]
    bucket = sa.case(*((column < edge, i) for i, edge in enumerate(edges)), else_=BUCKETS - 1).label("bucket")
    rows = session.execute(
        sa.select(bucket, state, sa.func.count()).where(column >= start).group_by(bucket, state)
    ).all()
    buckets = [{s: 0 for s in states} for _ in range(BUCKETS)]
    for index, name, count in rows:
        if name in buckets[0]:
            buckets[int(index)][name] += int(count)
    totals = {s: sum(b[s] for b in buckets) for s in states}
    return {"totals": totals, "buckets": buckets, "bucket_seconds": int(step.total_seconds()),
            "since": start.isoformat()}


def outcomes(session: Session, now: datetime) -> dict[str, Any]:
    running = session.execute(
        sa.select(sa.func.count()).select_from(DagRun).where(DagRun.state == "running")
    ).scalar_one()
    return {
        "task_instances": _bucketed(session, TaskInstance.end_date, TaskInstance.state, TI_OUTCOMES, now),
        "dag_runs": _bucketed(session, DagRun.end_date, DagRun.state, RUN_OUTCOMES, now),
        "runs_running": int(running),
    }


def import_errors(session: Session) -> dict[str, Any]:
    total = session.execute(sa.select(sa.func.count()).select_from(ImportError_)).scalar_one()
    recent = session.execute(
        sa.select(ImportError_.filename, ImportError_.timestamp).order_by(ImportError_.timestamp.desc()).limit(5)
    ).all()
    return {"count": int(total), "recent": [{"filename": f, "timestamp": t.isoformat()} for f, t in recent]}


def recent_failures(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index,
                  TaskInstance.try_number, TaskInstance.end_date)
        .where(TaskInstance.state == "failed", TaskInstance.end_date.is_not(None))
        .order_by(TaskInstance.end_date.desc()).limit(RECENT)
    ).all()
    return [{"dag_id": d, "run_id": r, "task_id": t, "map_index": m, "try_number": n,
             "end_date": e.isoformat() if e else None} for d, r, t, m, n, e in rows]


def read_dashboard(session: Session, now: datetime, timeout: float) -> dict[str, Any]:
    """Every figure of the dashboard from the DB (health checks and caching: ``api.dashboard``)."""
    nodes = read_nodes(session, now, timeout)
    return {
        "generated_at": now.isoformat(), "node_timeout": timeout, "nodes": nodes,
        "queues": queue_depths(session, nodes), "outcomes": outcomes(session, now),
        "import_errors": import_errors(session), "recent_failures": recent_failures(session),
    }
