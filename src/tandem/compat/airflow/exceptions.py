"""``airflow.exceptions``: the exceptions DAG code raises and catches."""

from __future__ import annotations

from tandem.exceptions import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    NotFound,
    ParamValidationError,
    TaskTimeout,
    UnmappableXComLengthPushed,
    UnmappableXComTypePushed,
    XComForMappingNotPushed,
)
from tandem.exceptions import TandemException as AirflowException

AirflowNotFoundException = NotFound
AirflowTaskTimeout = TaskTimeout

__all__ = [
    "AirflowException", "AirflowFailException", "AirflowNotFoundException", "AirflowSensorTimeout",
    "AirflowSkipException", "AirflowTaskTimeout", "ParamValidationError", "UnmappableXComLengthPushed",
    "UnmappableXComTypePushed", "XComForMappingNotPushed",
]
