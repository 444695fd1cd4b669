"""Recognizing an Apache Airflow metadata database, and which major version wrote it.

Airflow's tables are reflected, not declared: one reader serves every 2.x and 3.x revision,
and columns that differ between them (``execution_date``/``logical_date``, ``run_after``,
``task_instance.id``) are looked up by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

# Tables every Airflow 2.x and 3.x database has; ``slot_pool`` is Airflow's alone (Tandem says ``pool``).
REQUIRED = ("alembic_version", "dag_run", "task_instance", "xcom", "variable", "connection", "slot_pool")
# Read when present: tries (task_instance_history: 2.10+, task_fail: 2.x).
OPTIONAL = ("task_instance_history", "task_fail")
NOT_IMPORTED = ("DAG metadata (dag, serialized_dag, dag_code, dag_version: the DAG processor rebuilds it from the "
                "DAG files), users and roles (ab_*), audit log, jobs, task_reschedule, rendered task fields, "
                "triggers, assets/datasets and backfills")


@dataclass(frozen=True)
class AirflowSchema:
    major: int
    revision: str
    tables: dict[str, sa.Table]

    def table(self, name: str) -> sa.Table | None:
        return self.tables.get(name)

    @property
    def label(self) -> str:
        return f"Apache Airflow {self.major}.x metadata database (revision {self.revision})"


def read_airflow_schema(conn: sa.Connection) -> AirflowSchema | None:
    """The Airflow schema of this database, or None when it is not an Airflow database."""
    names = set(sa.inspect(conn).get_table_names())
    if not set(REQUIRED) <= names:
        return None
    metadata = sa.MetaData()
    metadata.reflect(conn, only=[n for n in (*REQUIRED, *OPTIONAL) if n in names])
    revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() or "unknown"
    # Airflow 3 gave task instances a UUID primary key; Airflow 2 keys them by name only.
    major = 3 if "id" in metadata.tables["task_instance"].c else 2
    return AirflowSchema(major, revision, dict(metadata.tables))
