"""A DAG whose run fails (its only task raises): ``dags trigger --wait`` exits 3."""

from datetime import datetime

from tandem import DAG, task

with DAG("core_fails", schedule=None, start_date=datetime(2024, 1, 1)) as dag:

    @task
    def boom():
        raise ValueError("core_fails fails on purpose")

    boom()
