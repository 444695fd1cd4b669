"""Observability: what every node reports about itself, and the cluster dashboard's data.

- ``instruments``: the Prometheus metrics a node records (names mirror Airflow's), as cheap
  calls from the code that does the work; no-ops until ``exporter.start`` enables them.
- ``exporter``: the node's own metrics endpoint (a port per node, recorded in its node row).
  Child processes (local executor supervisors, Celery pool processes, the embedded DAG
  processor) record into per-process files that the endpoint sums (prometheus-client's
  multiprocess mode), so a try recorded by any process of a node counts on that node.
- ``load``: the load a node writes into its heartbeat, so any api-server shows it from the DB.
- ``health``: database and broker checks for the dashboard, bounded in time and cached.
"""
