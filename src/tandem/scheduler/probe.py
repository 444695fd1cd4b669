"""One read that tells a scheduler which parts of its next pass have anything to do.

A quiet cluster still runs a discovery pass every ``poll_interval``: due DAGs, asset-triggered
DAGs, queued runs to start, running runs to plan, task instances to queue. Each part is a read
of its own, and on an idle cluster their round trips and statement handling are most of what
the scheduler costs. After a pass that did nothing, the next asks all five in one statement
and runs only the parts whose ``EXISTS`` came back true.

Each ``EXISTS`` is built from the very query its part runs, minus the ordering, the batch limit
and the row locks, so it is true whenever the part would find a row (and also when a peer
holds that row: the part then finds nothing, as it would have). A row committed after the
probe is found by the next pass, exactly as if it had been committed just after the part's
own read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.scheduler.assets import consumers_behind
from tandem.scheduler.critical_section import CANDIDATES
from tandem.scheduler.dagruns import due_dags, runs_to_start
from tandem.scheduler.scheduling import RUNS_TO_SCHEDULE


@dataclass(frozen=True)
class Pending:
    """Which parts of a pass have work: ``True`` for a part means "run it"."""

    due_dags: bool = True
    asset_dags: bool = True
    runs_to_start: bool = True
    runs_to_schedule: bool = True
    candidates: bool = True


#: What a pass assumes when it does not probe: every part runs.
UNKNOWN = Pending()


@functools.lru_cache(maxsize=1)
def _probe() -> sa.Select[bool, bool, bool, bool, bool]:
    return sa.select(due_dags().exists(), consumers_behind().exists(), runs_to_start().exists(),
                     RUNS_TO_SCHEDULE.exists(), CANDIDATES.exists())


def pending(session: Session, now: datetime) -> Pending:
    """Which parts of a pass at ``now`` would find anything, in one round trip."""
    row = session.execute(_probe(), {"now": now}).one()
    return Pending(*(bool(value) for value in row))
