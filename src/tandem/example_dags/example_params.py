"""Params: typed, validated inputs; `conf` given at trigger time merges over the defaults."""

from datetime import datetime

from tandem import DAG, Param, task

with DAG(
    "example_params",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    tags=["example", "params"],
    params={
        "name": Param("world", type="string", minLength=1, description="Who to greet"),
        "times": Param(2, type="integer", minimum=1, maximum=10),
        "shout": Param(False, type="boolean"),
    },
) as dag:

    @task
    def greet(params, conf) -> str:
        text = f"hello {params['name']}" * params["times"]
        text = text.upper() if params["shout"] else text
        print(text, "(conf given:", conf, ")")
        return text

    greet()
