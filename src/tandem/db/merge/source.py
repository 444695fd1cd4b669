"""The other side of a merge, whichever system wrote it: another Tandem instance, or Airflow.

An Airflow database is converted into a temporary Tandem database first (``airflow/``), so
everything after this point reads Tandem rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from tandem.db.merge.airflow import read_airflow_schema, staged_airflow
from tandem.db.merge.airflow.schema import NOT_IMPORTED
from tandem.db.merge.checks import check_schemas, open_source
from tandem.db.merge.report import NOT_COPIED, Unconverted
from tandem.db.merge.secrets import SecretCodec, resolve_source_key


@dataclass(frozen=True)
class MergeSource:
    # Tandem rows to merge: the other database itself, or Airflow's converted.
    engine: Engine
    secrets: SecretCodec
    # "another Tandem instance" or which Airflow.
    kind: str
    # What the merge leaves behind, and why.
    not_copied: str
    # Airflow rows without an exact Tandem form, and what became of each.
    unconverted: list[Unconverted] = field(default_factory=list)


@contextmanager
def open_merge_source(url: str, target: Engine, fernet_key: str | None, target_key: str | None,
                      ask: Callable[[], str] | None) -> Iterator[MergeSource]:
    """The source of ``tandem db merge --from URL``, checked, its secrets readable."""
    engine = open_source(url, target)
    try:
        with engine.connect() as conn:
            airflow = read_airflow_schema(conn)
        if airflow is None:
            check_schemas(engine, target)
            key = resolve_source_key(engine, fernet_key, target_key, ask)
            yield MergeSource(engine, SecretCodec(key, target_key), "another Tandem instance",
                              f"{', '.join(NOT_COPIED)} (the DAG processor rebuilds DAG metadata from the DAG files; "
                              "nodes are live processes)")
            return
        with staged_airflow(engine, airflow, fernet_key, target_key, ask) as staged:
            check_schemas(staged.engine, target)  # the staged side is at head: this checks this side
            # The staged secrets are already encrypted with this cluster's key.
            yield MergeSource(staged.engine, SecretCodec(target_key, target_key), airflow.label, NOT_IMPORTED,
                              staged.unconverted)
    finally:
        engine.dispose()
