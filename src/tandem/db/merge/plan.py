"""The dry run: every decision of a merge, made on both databases, with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

from tandem.db.merge.context import BATCH_SIZE, MergeContext, Progress, no_progress
from tandem.db.merge.report import MergeReport
from tandem.db.merge.secrets import SecretCodec
from tandem.db.merge.walk import run_merge


@contextmanager
def source_connection(source: Engine) -> Iterator[Connection]:
    """One read transaction on the source, with a snapshot where the dialect gives one,
    so that batches read while the other instance still runs agree with each other."""
    with source.connect() as conn:
        if source.dialect.name != "sqlite":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        try:
            yield conn
        finally:
            conn.rollback()


def plan_merge(source: Engine, target: Engine, policy: str, secrets: SecretCodec,
               progress: Progress = no_progress, batch_size: int = BATCH_SIZE) -> MergeReport:
    report = MergeReport(policy)
    with source_connection(source) as src, target.connect() as tgt:
        try:
            run_merge(MergeContext(src, tgt, policy, write=False, secrets=secrets, report=report,
                                   progress=progress, batch_size=batch_size))
        finally:
            tgt.rollback()
    return report
