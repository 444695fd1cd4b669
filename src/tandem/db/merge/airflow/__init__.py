"""Merging an Apache Airflow 2.x or 3.x metadata database into Tandem.

``schema.read_airflow_schema`` recognizes one; ``stage.staged_airflow`` converts its DAG runs,
task instances, tries, XComs, variables, connections and pools into a temporary Tandem
database, noting every row that has no exact Tandem form; the ordinary merge then reads that.
"""

from __future__ import annotations

from tandem.db.merge.airflow.schema import AirflowSchema, read_airflow_schema
from tandem.db.merge.airflow.stage import StagedAirflow, staged_airflow

__all__ = ["AirflowSchema", "StagedAirflow", "read_airflow_schema", "staged_airflow"]
