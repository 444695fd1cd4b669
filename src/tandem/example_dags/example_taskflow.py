"""TaskFlow: values returned by @task functions flow to downstream tasks through XCom."""

from datetime import datetime

from tandem import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), tags=["example", "taskflow"],
     doc_md="Extract, transform and load with `@task` functions and `multiple_outputs`.")
def example_taskflow():
    @task
    def extract() -> dict:
        return {"1001": 301.27, "1002": 433.21, "1003": 502.22}

    @task(multiple_outputs=True)
    def transform(orders: dict) -> dict:
        return {"total": round(sum(orders.values()), 2), "count": len(orders)}

    @task
    def load(total: float, count: int) -> str:
        line = f"{count} orders, total {total:.2f}"
        print(line)
        return line

    summary = transform(extract())
    load(summary["total"], summary["count"])


example_taskflow()
