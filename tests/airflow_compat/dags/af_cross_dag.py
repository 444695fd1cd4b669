"""TriggerDagRunOperator starts another DAG; ExternalTaskSensor waits on one that never ran."""

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.providers.standard.sensors.external_task import ExternalTaskMarker, ExternalTaskSensor
from airflow.sdk import DAG

with DAG("af_cross_dag_target", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as target:
    EmptyOperator(task_id="work")

with DAG("af_cross_dag", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as controller:
    trigger = TriggerDagRunOperator(
        task_id="trigger",
        trigger_dag_id="af_cross_dag_target",
        conf={"message": "hello"},
        trigger_run_id="triggered_by_{{ ds_nodash }}",
    )
    wait_never = ExternalTaskSensor(
        task_id="wait_for_absent_run",
        external_dag_id="af_cross_dag_target",
        external_task_id="work",
        poke_interval=1,
        timeout=3,
        mode="reschedule",
    )
    soft = ExternalTaskSensor(
        task_id="soft_wait",
        external_dag_id="af_cross_dag_target",
        external_task_id=None,
        poke_interval=1,
        timeout=2,
        soft_fail=True,
    )
    marker = ExternalTaskMarker(
        task_id="marker", external_dag_id="af_cross_dag_target", external_task_id="work"
    )
    trigger >> marker
