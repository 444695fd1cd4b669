"""DAG params with Param schemas, defaults used when no conf is given, and a dag-function argument."""

import pendulum
from airflow.sdk import Param, dag, task


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={
        "threshold": Param(10, type="integer", minimum=0),
        "mode": Param("fast", enum=["fast", "slow"]),
        "tags": Param(["a", "b"], type="array"),
    },
)
def af_params(threshold: int = 10):
    @task
    def read(params=None) -> int:
        assert params["mode"] == "fast", params
        assert params["tags"] == ["a", "b"], params
        return params["threshold"]

    @task
    def compare(value: int, limit: int) -> None:
        assert value == limit == 10, (value, limit)

    @task(params={"mode": "slow"})
    def overridden(params=None) -> None:
        assert params["mode"] == "slow", params

    compare(read(), threshold)
    overridden()


af_params()
