"""Airflow's ``conf`` object for DAG files that read settings (``conf.get("core", "x")``).

Values come from ``AIRFLOW__<SECTION>__<KEY>`` environment variables, else the fallback;
Tandem's own settings live in ``tandem.toml`` and are not exposed under Airflow's names.
"""

from __future__ import annotations

import os
from typing import Any

_MISSING: Any = object()


class AirflowConf:
    """The subset of Airflow's configuration parser that DAG files use."""

    def get(self, section: str, key: str, fallback: Any = _MISSING, **_: Any) -> Any:
        value = os.environ.get(f"AIRFLOW__{section.upper()}__{key.upper()}")
        if value is not None:
            return value
        if fallback is _MISSING:
            raise KeyError(f"section/key [{section}/{key}] not found in config (set AIRFLOW__{section.upper()}__"
                           f"{key.upper()} for Tandem)")
        return fallback

    def getboolean(self, section: str, key: str, fallback: Any = _MISSING, **_: Any) -> bool:
        value = self.get(section, key, fallback)
        return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "t", "yes", "on")

    def getint(self, section: str, key: str, fallback: Any = _MISSING, **_: Any) -> int:
        return int(self.get(section, key, fallback))

    def getfloat(self, section: str, key: str, fallback: Any = _MISSING, **_: Any) -> float:
        return float(self.get(section, key, fallback))

    def has_option(self, section: str, key: str) -> bool:
        return f"AIRFLOW__{section.upper()}__{key.upper()}" in os.environ


conf = AirflowConf()
