"""The merge itself: the same walk as the plan, writing, in ONE transaction on the target.

Any error (a conflict under ``fail`` that appeared since the plan, a secret that cannot be
re-encrypted, a database error) rolls the whole merge back.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tandem.db.merge.context import BATCH_SIZE, MergeContext, Progress, no_progress
from tandem.db.merge.plan import source_connection
from tandem.db.merge.report import MergeReport
from tandem.db.merge.secrets import SecretCodec
from tandem.db.merge.walk import run_merge


def apply_merge(source: Engine, target: Engine, policy: str, secrets: SecretCodec,
                progress: Progress = no_progress, batch_size: int = BATCH_SIZE) -> MergeReport:
    report = MergeReport(policy)
    with source_connection(source) as src, target.begin() as tgt:
        run_merge(MergeContext(src, tgt, policy, write=True, secrets=secrets, report=report,
                               progress=progress, batch_size=batch_size))
    return report
