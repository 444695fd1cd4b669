"""``airflow.providers.standard.operators.python``: the same names as ``airflow.operators.python``."""

from __future__ import annotations

from tandem.compat.airflow.operators.python import *  # noqa: F403
from tandem.compat.airflow.operators.python import __all__  # noqa: F401
