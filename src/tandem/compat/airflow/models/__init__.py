"""``airflow.models``: Airflow 2's home of the authoring classes."""

from __future__ import annotations

from tandem.compat.dag import DAG
from tandem.sdk.baseoperator import BaseOperator
from tandem.sdk.connection import Connection
from tandem.sdk.params import Param
from tandem.sdk.variable import Variable
from tandem.sdk.xcom_arg import XComArg

__all__ = ["DAG", "BaseOperator", "Connection", "Param", "Variable", "XComArg"]
