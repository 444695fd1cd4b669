"""``airflow.sdk``: Airflow 3's authoring API."""

from __future__ import annotations

from tandem.compat.dag import DAG, asset, dag
from tandem.compat.settings import conf
from tandem.sdk.assets import Asset, AssetAlias, AssetAll, AssetAny, AssetOrTimeSchedule, Metadata
from tandem.sdk.baseoperator import BaseOperator
from tandem.sdk.connection import BaseHook, Connection
from tandem.sdk.context import Context, get_current_context
from tandem.sdk.decorators import setup, task, teardown
from tandem.sdk.dependency import EdgeModifier, Label, chain, chain_linear, cross_downstream
from tandem.sdk.notifier import BaseNotifier
from tandem.sdk.operators.branch import BaseBranchOperator
from tandem.sdk.operators.branch import BranchMixin as BranchMixIn
from tandem.sdk.params import Param, ParamsDict
from tandem.sdk.runtime import RuntimeTaskInstance as TaskInstance
from tandem.sdk.sensors.base import BaseSensorOperator, PokeReturnValue
from tandem.sdk.task_group import TaskGroup
from tandem.sdk.task_group_decorator import task_group
from tandem.sdk.templating import literal
from tandem.sdk.timetable_specs import (
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    DeltaDataIntervalTimetable,
    DeltaTriggerTimetable,
)
from tandem.sdk.trigger_rule import TriggerRule
from tandem.sdk.variable import Variable
from tandem.sdk.weight_rule import WeightRule
from tandem.sdk.xcom_arg import XComArg
from tandem.state import DagRunState, TaskInstanceState

__version__ = "3.3.2"

__all__ = [
    "DAG",
    "Asset",
    "AssetAlias",
    "AssetAll",
    "AssetAny",
    "AssetOrTimeSchedule",
    "BaseBranchOperator",
    "BaseHook",
    "BaseNotifier",
    "BaseOperator",
    "BaseSensorOperator",
    "BranchMixIn",
    "Connection",
    "Context",
    "CronDataIntervalTimetable",
    "CronTriggerTimetable",
    "DagRunState",
    "DeltaDataIntervalTimetable",
    "DeltaTriggerTimetable",
    "EdgeModifier",
    "Label",
    "Metadata",
    "Param",
    "ParamsDict",
    "PokeReturnValue",
    "TaskGroup",
    "TaskInstance",
    "TaskInstanceState",
    "TriggerRule",
    "Variable",
    "WeightRule",
    "XComArg",
    "asset",
    "chain",
    "chain_linear",
    "conf",
    "cross_downstream",
    "dag",
    "get_current_context",
    "literal",
    "setup",
    "task",
    "task_group",
    "teardown",
]
