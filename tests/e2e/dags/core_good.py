"""A small DAG that succeeds, with a param that ``--conf`` overrides.

Used by tests/e2e/test_core_cli.py and test_core_import_errors.py.
"""

from datetime import datetime

from tandem import DAG, Param, task

with DAG("core_good", schedule=None, start_date=datetime(2024, 1, 1),
         params={"greeting": Param("hello", type="string")}) as dag:

    @task
    def greet(params) -> str:
        print(f"greeting={params['greeting']}")
        return params["greeting"]

    @task
    def shout(text: str) -> str:
        print(f"shouted={text.upper()}")
        return text.upper()

    shout(greet())
