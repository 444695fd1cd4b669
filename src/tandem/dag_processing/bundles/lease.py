"""Which DAG processor parses a bundle: a lease on its ``dag_bundle`` row, taken by compare-and-set.

A holder renews its lease every pass, so the bundle stays with it (its in-memory file table
stays useful); a peer takes the bundle only once the lease expired on the database's clock
(ARCHITECTURE.md, invariant 9), e.g. after its holder was killed. No transaction stays open while
files are parsed, so no lock is held across user code.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.dag_processing.bundles.base import BaseDagBundle
from tandem.dag_processing.bundles.storage import ensure_bundle
from tandem.models import DagBundle, utcnow


def take_lease(session: Session, bundle: BaseDagBundle, owner: str, seconds: float) -> bool:
    """Take or renew the lease on ``bundle`` for ``seconds``; False while a live peer holds it."""
    ensure_bundle(session, bundle)
    now = utcnow()
    changed = session.execute(
        sa.update(DagBundle)
        .where(DagBundle.name == bundle.name,
               sa.or_(DagBundle.lease_owner.is_(None), DagBundle.lease_owner == owner,
                      DagBundle.lease_until.is_(None), DagBundle.lease_until < now))
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(changed == 1)


def release_lease(session: Session, bundle_name: str, owner: str) -> None:
    session.execute(
        sa.update(DagBundle).where(DagBundle.name == bundle_name, DagBundle.lease_owner == owner)
        .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False)
    )
