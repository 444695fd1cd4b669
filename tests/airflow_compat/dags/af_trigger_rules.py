"""Trigger rules after a failure; the run fails because a leaf fails."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TriggerRule

with DAG("af_trigger_rules", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
    ok = EmptyOperator(task_id="ok")
    boom = BashOperator(task_id="boom", bash_command="exit 1")
    rules = [
        TriggerRule.ALL_SUCCESS,
        TriggerRule.ALL_DONE,
        TriggerRule.ONE_FAILED,
        TriggerRule.ONE_SUCCESS,
        TriggerRule.ALL_FAILED,
        TriggerRule.NONE_FAILED,
        TriggerRule.NONE_SKIPPED,
        TriggerRule.ALWAYS,
        TriggerRule.ONE_DONE,
        TriggerRule.ALL_SKIPPED,
    ]
    for rule in rules:
        [ok, boom] >> EmptyOperator(task_id=f"after_{rule.value}", trigger_rule=rule)
    downstream_of_failed = EmptyOperator(task_id="downstream_of_failed")
    boom >> downstream_of_failed >> EmptyOperator(task_id="grandchild", trigger_rule="all_done")
