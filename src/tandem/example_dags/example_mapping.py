"""Dynamic task mapping: one task instance per element, over a literal list or an upstream result."""

from datetime import datetime

from tandem import dag, task
from tandem.operators import BashOperator


@dag(schedule=None, start_date=datetime(2024, 1, 1), tags=["example", "mapping"])
def example_mapping():
    @task
    def list_files() -> list[str]:
        return ["a.csv", "b.csv", "c.csv", "d.csv"]

    @task
    def count_rows(name: str, factor: int) -> int:
        return len(name) * factor

    @task
    def report(counts: list[int]) -> int:
        print(f"rows per file: {counts}")
        return sum(counts)

    counts = count_rows.partial(factor=10).expand(name=list_files())
    report(counts)
    BashOperator.partial(task_id="echo").expand(bash_command=["echo one", "echo two"])


example_mapping()
