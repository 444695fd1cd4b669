"""Benchmark shape: 30 no-op @tasks in a chain (hop latency)."""

from datetime import datetime

from tandem import dag, task


@dag(dag_id="bench_chain", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=64)
def bench_chain():
    @task
    def noop() -> None:
        return None

    previous = None
    for i in range(30):
        current = noop.override(task_id=f"t{i:02d}")()
        if previous is not None:
            previous >> current
        previous = current


bench_chain()
