"""Setup and teardown around work that succeeds."""

import pendulum
from airflow.sdk import dag, setup, task, teardown


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def af_setup_teardown_ok():
    @setup
    def create_cluster() -> str:
        return "cluster-1"

    @task
    def work(cluster: str) -> str:
        return f"ran on {cluster}"

    @teardown
    def delete_cluster(cluster: str) -> None:
        print(f"deleting {cluster}")

    cluster = create_cluster()
    work(cluster) >> delete_cluster(cluster)


af_setup_teardown_ok()
