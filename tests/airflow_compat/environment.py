"""The environment every compatibility DAG runs in, under Apache Airflow and under Tandem alike."""

from __future__ import annotations

# Read by af_variables_connections.py through Airflow's (and Tandem's) environment lookup.
DAG_ENVIRONMENT = {
    "AIRFLOW_VAR_COMPAT_CONFIG": '{"region": "eu", "limit": 3}',
    "AIRFLOW_CONN_COMPAT_HTTP": "http://user:secret@example.com:8080/?timeout=5",
}
