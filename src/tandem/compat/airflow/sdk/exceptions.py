"""``airflow.sdk.exceptions``."""

from __future__ import annotations

from tandem.compat.airflow.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowNotFoundException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
    ParamValidationError,
)

__all__ = [
    "AirflowException", "AirflowFailException", "AirflowNotFoundException", "AirflowSensorTimeout",
    "AirflowSkipException", "AirflowTaskTimeout", "ParamValidationError",
]
