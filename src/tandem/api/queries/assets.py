"""Assets as the UI shows them: each URI with its last event, the DAGs producing and consuming it.

An asset exists for the UI once an event updated it or a DAG's schedule waits on it (outlets are
not serialized, so producers are known from their events).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.models import AssetEvent, AssetEventDagRun, DagModel, DagRun
from tandem.scheduler.assets import ASSET_SUMMARY_PREFIX, condition_uris
from tandem.sdk.assets import asset_condition

EVENTS_PER_PAGE = 50


@dataclass
class AssetSummary:
    uri: str
    events: int = 0
    last_event: AssetEvent | None = None
    producers: set[str] = field(default_factory=set)
    consumers: set[str] = field(default_factory=set)


@dataclass
class EventRow:
    event: AssetEvent
    triggered: list[DagRun]


def consumers_by_uri(session: Session) -> dict[str, set[str]]:
    """The DAGs whose schedule waits on each asset URI."""
    from tandem.api.queries.dags import read_serialized

    out: dict[str, set[str]] = defaultdict(set)
    dag_ids = session.execute(sa.select(DagModel.dag_id).where(
        DagModel.is_active.is_(True), DagModel.timetable_summary.contains(ASSET_SUMMARY_PREFIX.strip()))).scalars()
    for dag_id in dag_ids:
        data = read_serialized(session, dag_id)
        condition = asset_condition(data["schedule"]) if data else None
        for uri in condition_uris(condition) if condition else ():
            out[uri].add(dag_id)
    return out


def list_assets(session: Session, search: str = "") -> list[AssetSummary]:
    assets: dict[str, AssetSummary] = {}
    stats = session.execute(sa.select(AssetEvent.uri, sa.func.count(), sa.func.max(AssetEvent.id))
                            .group_by(AssetEvent.uri)).all()
    last_ids = {last for _, _, last in stats}
    last = {e.id: e for e in session.execute(sa.select(AssetEvent).where(AssetEvent.id.in_(last_ids))).scalars()}
    for uri, count, last_id in stats:
        assets[uri] = AssetSummary(uri, int(count), last.get(last_id))
    for uri, dag_id in session.execute(sa.select(AssetEvent.uri, AssetEvent.source_dag_id).distinct()).tuples():
        if dag_id:
            assets[uri].producers.add(dag_id)
    for uri, dag_ids in consumers_by_uri(session).items():
        assets.setdefault(uri, AssetSummary(uri)).consumers |= dag_ids
    rows = sorted(assets.values(), key=lambda a: a.uri)
    return [a for a in rows if search.lower() in a.uri.lower()] if search else rows


def read_asset(session: Session, uri: str, page: int) -> tuple[AssetSummary, list[EventRow], int] | None:
    """The asset, one page of its events (newest first) each with the runs it triggered, and the event count."""
    total = int(session.execute(sa.select(sa.func.count()).where(AssetEvent.uri == uri)).scalar_one())
    consumers = consumers_by_uri(session).get(uri, set())
    if total == 0 and not consumers:
        return None
    events = list(session.execute(sa.select(AssetEvent).where(AssetEvent.uri == uri).order_by(AssetEvent.id.desc())
                                  .limit(EVENTS_PER_PAGE).offset((page - 1) * EVENTS_PER_PAGE)).scalars())
    triggered: dict[int, list[DagRun]] = defaultdict(list)
    if events:
        for event_id, run in session.execute(
            sa.select(AssetEventDagRun.event_id, DagRun)
            .join(DagRun, sa.and_(DagRun.dag_id == AssetEventDagRun.dag_id, DagRun.run_id == AssetEventDagRun.run_id))
            .where(AssetEventDagRun.event_id.in_([e.id for e in events])).order_by(DagRun.dag_id, DagRun.run_id)
        ).tuples():
            triggered[event_id].append(run)
    producers = {d for d in session.execute(sa.select(AssetEvent.source_dag_id).where(
        AssetEvent.uri == uri).distinct()).scalars() if d}
    summary = AssetSummary(uri, total, events[0] if events and page == 1 else None, producers, consumers)
    return summary, [EventRow(e, triggered.get(e.id, [])) for e in events], total


def event_extra(event: AssetEvent) -> Any:
    return event.extra or {}
