"""Task groups, chain() and an hourly schedule with depends_on_past."""

from datetime import datetime

from tandem import DAG, TaskGroup, chain
from tandem.operators import EmptyOperator, PythonOperator

with DAG("example_groups", schedule="0 * * * *", start_date=datetime(2024, 1, 1), catchup=False,
         max_active_runs=1, tags=["example"]) as dag:
    start = EmptyOperator(task_id="start")
    with TaskGroup("ingest") as ingest:
        a = PythonOperator(task_id="a", python_callable=lambda: "a", depends_on_past=True)
        b = PythonOperator(task_id="b", python_callable=lambda x: x * 2, op_args=[21])
    with TaskGroup("publish") as publish:
        c = EmptyOperator(task_id="c")
        d = EmptyOperator(task_id="d")
    end = EmptyOperator(task_id="end")
    chain(start, [a, b], [c, d], end)
