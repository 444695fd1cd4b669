"""A producer with asset outlets (and Metadata), and a consumer scheduled on those assets."""

import pendulum
from airflow.sdk import DAG, Asset, Metadata, task

orders = Asset("s3://warehouse/orders.parquet")
customers = Asset(name="customers", uri="s3://warehouse/customers.parquet")

with DAG("af_assets", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as producer:

    @task(outlets=[orders])
    def write_orders():
        yield Metadata(orders, {"rows": 100})

    @task(outlets=[customers])
    def write_customers(*, outlet_events):
        outlet_events[customers].extra = {"rows": 7}

    write_orders() >> write_customers()

with DAG(
    "af_assets_consumer",
    schedule=(orders & customers) | Asset("s3://warehouse/manual.flag"),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
) as consumer:

    @task(inlets=[orders, customers])
    def read() -> None:
        print("reading")

    read()
