"""BaseOperator and BaseSensorOperator subclasses with template_fields and execute(context)."""

import pendulum
from airflow.sdk import DAG, BaseOperator, BaseSensorOperator, PokeReturnValue


class GreetOperator(BaseOperator):
    template_fields = ("name", "options")
    ui_color = "#ffefeb"

    def __init__(self, *, name: str, options: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.name = name
        self.options = options or {}

    def execute(self, context):
        assert self.name == f"world-{context['ds']}", self.name
        assert self.options == {"day": context["ds_nodash"]}, self.options
        context["ti"].xcom_push(key="greeting", value=f"hello {self.name}")
        return len(self.name)


class CountdownSensor(BaseSensorOperator):
    def __init__(self, *, start: int, **kwargs):
        super().__init__(**kwargs)
        self.remaining = start

    def poke(self, context):
        self.remaining -= 1
        return PokeReturnValue(is_done=self.remaining <= 0, xcom_value=self.remaining)


class PullOperator(BaseOperator):
    def execute(self, context):
        ti = context["ti"]
        assert ti.xcom_pull(task_ids="greet", key="greeting").startswith("hello world-")
        assert ti.xcom_pull(task_ids="greet") == len("world-") + 10
        assert ti.xcom_pull(task_ids="countdown") == 0


class FailingOperator(BaseOperator):
    def execute(self, context):
        raise RuntimeError("custom failure")


with DAG("af_custom_operator", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
    greet = GreetOperator(task_id="greet", name="world-{{ ds }}", options={"day": "{{ ds_nodash }}"})
    countdown = CountdownSensor(task_id="countdown", start=3, poke_interval=1, timeout=30)
    [greet, countdown] >> PullOperator(task_id="pull")
    FailingOperator(task_id="failing", retries=0)
