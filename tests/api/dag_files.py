"""DAG files the API and browser tests put in their DAG folder."""

from __future__ import annotations

DEMO_DAG = '''
"""A small DAG with params, mapping, a task group and a log line: every view has something to show."""
from datetime import datetime

from tandem import DAG, Param, TaskGroup, task
from tandem.operators import BashOperator

with DAG(
    "api_demo",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    tags=["demo", "api"],
    params={"n": Param(3, type="integer", minimum=1, maximum=5, description="How many numbers"),
            "label": Param("hi", type="string")},
    doc_md="Docs with <script>alert('x')</script> markup that must stay text",
) as dag:

    @task
    def numbers(params) -> list[int]:
        return list(range(params["n"]))

    @task
    def double(x: int) -> int:
        return x * 2

    @task
    def total(values: list[int]) -> int:
        print("TOTAL IS", sum(values))
        return sum(values)

    with TaskGroup("report") as report:
        hello = BashOperator(task_id="hello", bash_command="echo hello from {{ run_id }}")
        bye = BashOperator(task_id="bye", bash_command="echo bye")
        hello >> bye

    total(double.expand(x=numbers())) >> report
'''

BROKEN_DAG = '''
from tandem import DAG  # noqa: F401  (mentions DAG so discovery's safe mode looks at the file)
import nonexistent_module_for_tandem_tests  # noqa: F401
'''


def write_dags(folder: object) -> None:
    from pathlib import Path

    path = Path(str(folder))
    path.mkdir(parents=True, exist_ok=True)
    (path / "api_demo.py").write_text(DEMO_DAG)
    (path / "broken.py").write_text(BROKEN_DAG)
