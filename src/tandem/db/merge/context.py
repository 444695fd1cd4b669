"""State shared by the walkers of one merge pass (plan or apply)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Connection

from tandem.db.merge.errors import MergeError
from tandem.db.merge.report import Conflict, MergeReport
from tandem.db.merge.secrets import SecretCodec

POLICIES = ("fail", "skip", "rename")
BATCH_SIZE = 500

# progress(table, rows done, rows in total)
Progress = Callable[[str, int, int], None]


def no_progress(table: str, done: int, total: int) -> None:
    pass


@dataclass
class MergeContext:
    source: Connection
    target: Connection
    policy: str
    # False for the plan (dry run): decide everything, write nothing.
    write: bool
    secrets: SecretCodec
    report: MergeReport
    progress: Progress = no_progress
    batch_size: int = BATCH_SIZE
    # Keys taken by renamed rows in this pass: in a dry run they are not in the target yet,
    # yet two renamed rows must not be planned onto the same key.
    claimed: set[tuple[str, ...]] = field(default_factory=set)
    claimed_dates: set[tuple[str, datetime]] = field(default_factory=set)
    dag_ids: set[str] = field(default_factory=set)

    def conflict(self, table: str, key: str, reason: str, resolution: str) -> None:
        """Record a conflict; when applying under ``fail`` stop here, which rolls everything back."""
        self.report.add_conflict(Conflict(table, key, reason, resolution))
        if self.write and self.policy == "fail":
            raise MergeError(f"conflict in {table} {key}: {reason}; nothing was written "
                             "(use --on-conflict skip or rename)")
