"""Benchmark shape: one start task, then 200 independent no-op tasks (throughput)."""

from datetime import datetime

from tandem import dag, task


@dag(dag_id="bench_fanout", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=256)
def bench_fanout():
    @task
    def start() -> None:
        return None

    @task
    def noop() -> None:
        return None

    first = start()
    for i in range(200):
        first >> noop.override(task_id=f"n{i:03d}")()


bench_fanout()
