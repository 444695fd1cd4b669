"""Pool gauges under Airflow's names (``pool.open_slots.<pool>`` and its siblings).

Cluster-wide figures read from the DB at scrape time: the api-servers export them (any replica
gives the same answer), not each scheduler, so a sum over targets never counts a pool twice.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from tandem.models import TaskInstance
from tandem.models import queries as model_queries

STATES = ("queued", "running", "scheduled")


def pool_families(session: Session) -> Iterator[Metric]:
    used = session.execute(
        sa.select(TaskInstance.pool, TaskInstance.state, sa.func.sum(TaskInstance.pool_slots))
        .where(TaskInstance.state.in_(STATES)).group_by(TaskInstance.pool, TaskInstance.state)
    ).all()
    by_state = {(pool, state): int(n or 0) for pool, state, n in used}
    families = {
        "open": GaugeMetricFamily("tandem_pool_open_slots", "Open slots of a pool (Airflow: pool.open_slots)",
                                  labels=["pool"]),
        **{state: GaugeMetricFamily(f"tandem_pool_{state}_slots", f"Slots of a pool taken by {state} tries "
                                    f"(Airflow: pool.{state}_slots)", labels=["pool"]) for state in STATES},
    }
    for pool in model_queries.list_pools(session):
        families["open"].add_metric([pool["name"]], pool["open"])
        for state in STATES:
            families[state].add_metric([pool["name"]], by_state.get((pool["name"], state), 0))
    yield from families.values()
