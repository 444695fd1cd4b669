"""Asset-triggered DAG runs: a DAG scheduled on assets runs when its condition is met.

A DAG's condition (``{"asset": uri}``, ``{"all": [...]}``, ``{"any": [...]}``, see
:mod:`tandem.sdk.assets`) is evaluated over the asset events newer than the last one the DAG
consumed (``asset_consumer.last_event_id``). When it holds, one run is created, the events
it covers are linked to it, and the mark moves past them, all in one transaction. Consumer
rows are taken with ``SKIP LOCKED``, so two schedulers never consume the same events twice.
A DAG starts consuming from the events after it first appears (older updates never trigger it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.db.dialects import BaseDialect
from tandem.models import AssetConsumer, AssetEvent, AssetEventDagRun, DagModel, table_of
from tandem.scheduler.dag_data import DagDataCache
from tandem.scheduler.dagruns import insert_run
from tandem.sdk.assets import asset_condition

ASSET_SUMMARY_PREFIX = "on assets "


def condition_uris(condition: dict[str, Any]) -> set[str]:
    if "asset" in condition:
        return {condition["asset"]}
    return set().union(*(condition_uris(c) for c in condition.get("all", condition.get("any", []))))


def condition_met(condition: dict[str, Any], updated: set[str]) -> bool:
    if "asset" in condition:
        return condition["asset"] in updated
    if "all" in condition:
        return all(condition_met(c, updated) for c in condition["all"])
    return any(condition_met(c, updated) for c in condition["any"])


def consumers_behind() -> sa.Select[str]:
    """Asset-scheduled DAGs with an event they have not considered yet, or not yet a consumer
    row: all that ``create_asset_triggered_runs`` acts on (``scheduler.probe`` asks whether
    there is any)."""
    newest = sa.select(sa.func.coalesce(sa.func.max(AssetEvent.id), 0)).scalar_subquery()
    return (
        sa.select(DagModel.dag_id)
        .outerjoin(AssetConsumer, AssetConsumer.dag_id == DagModel.dag_id)
        .where(DagModel.is_paused.is_(False), DagModel.is_active.is_(True),
               DagModel.timetable_summary.startswith(ASSET_SUMMARY_PREFIX),
               sa.or_(AssetConsumer.dag_id.is_(None), AssetConsumer.last_event_id < newest))
    )


def create_asset_triggered_runs(session: Session, dialect: BaseDialect, cache: DagDataCache, now: datetime,
                                limit: int) -> int:
    """Create a run for each asset-scheduled DAG whose condition the new events meet."""
    dag_ids = list(session.execute(
        sa.select(DagModel.dag_id).where(
            DagModel.is_paused.is_(False), DagModel.is_active.is_(True),
            DagModel.timetable_summary.startswith(ASSET_SUMMARY_PREFIX),
        )
    ).scalars())
    if not dag_ids:
        return 0
    newest = session.execute(sa.select(sa.func.max(AssetEvent.id))).scalar_one_or_none() or 0
    session.execute(dialect.insert_ignore(table_of(AssetConsumer),
                                          [{"dag_id": d, "last_event_id": newest} for d in dag_ids]))
    consumers = session.execute(dialect.skip_locked(
        sa.select(AssetConsumer).where(AssetConsumer.dag_id.in_(dag_ids), AssetConsumer.last_event_id < newest)
        .order_by(AssetConsumer.dag_id).limit(limit)
    )).scalars().all()
    dags = cache.get_many(session, [c.dag_id for c in consumers])
    created = 0
    for consumer in consumers:
        dag = dags.get(consumer.dag_id)
        condition = asset_condition(dag.data["schedule"]) if dag is not None else None
        if dag is None or condition is None:
            continue
        events = session.execute(
            sa.select(AssetEvent.id, AssetEvent.uri).where(
                AssetEvent.id > consumer.last_event_id, AssetEvent.id <= newest,
                AssetEvent.uri.in_(condition_uris(condition)),
            )
        ).all()
        if not condition_met(condition, {e.uri for e in events}):
            continue
        try:
            with session.begin_nested():
                run = insert_run(session, dag, run_id=f"asset_triggered__{now.isoformat()}", logical_date=now,
                                 interval=(now, now), run_after=now, run_type="asset_triggered", conf={},
                                 triggered_by="asset", now=now)
                session.execute(sa.insert(AssetEventDagRun),
                                [{"dag_id": run.dag_id, "run_id": run.run_id, "event_id": e.id} for e in events])
        except sa.exc.IntegrityError:
            continue  # a run with this logical date exists: the events wait for the next pass
        consumer.last_event_id = newest
        created += 1
    return created
