"""``tandem db merge``: import another Tandem instance's history into this database.

``plan.plan_merge`` reads both databases and reports what would be imported and every
conflict; ``apply.apply_merge`` does the same walk inside one transaction on the target and
writes. Both share the walkers in ``keyed.py`` (variables, connections, pools, users) and
``runs.py`` (DAG runs with their task instances, tries and XComs).
"""

from __future__ import annotations

from tandem.db.merge.apply import apply_merge
from tandem.db.merge.checks import check_schemas, open_source
from tandem.db.merge.context import POLICIES
from tandem.db.merge.errors import MergeError, SecretError
from tandem.db.merge.plan import plan_merge
from tandem.db.merge.report import Conflict, MergeReport, TableCounts
from tandem.db.merge.secrets import SecretCodec, resolve_source_key

__all__ = [
    "POLICIES",
    "Conflict",
    "MergeError",
    "MergeReport",
    "SecretCodec",
    "SecretError",
    "TableCounts",
    "apply_merge",
    "check_schemas",
    "open_source",
    "plan_merge",
    "resolve_source_key",
]
