"""``tandem db merge``: import another Tandem instance's (or an Airflow instance's) history.

``plan.plan_merge`` reads both databases and reports what would be imported and every
conflict; ``apply.apply_merge`` does the same walk inside one transaction on the target and
writes. Both share the walkers in ``keyed.py`` (variables, connections, pools, users) and
``runs.py`` (DAG runs with their task instances, tries and XComs). ``source.py`` opens the
other side; an Airflow database is first converted to Tandem rows by ``airflow/``.
"""

from __future__ import annotations

from tandem.db.merge.apply import apply_merge
from tandem.db.merge.checks import check_schemas, open_source
from tandem.db.merge.context import POLICIES
from tandem.db.merge.errors import MergeError, SecretError
from tandem.db.merge.plan import plan_merge
from tandem.db.merge.report import Conflict, MergeReport, TableCounts, Unconverted
from tandem.db.merge.secrets import SecretCodec, resolve_source_key
from tandem.db.merge.source import MergeSource, open_merge_source

__all__ = [
    "POLICIES",
    "Conflict",
    "MergeError",
    "MergeReport",
    "MergeSource",
    "SecretCodec",
    "SecretError",
    "TableCounts",
    "Unconverted",
    "apply_merge",
    "check_schemas",
    "open_merge_source",
    "open_source",
    "plan_merge",
    "resolve_source_key",
]
