"""Normalising the ``schedule`` argument of a DAG into a small JSON-able form.

The normalised form is what gets serialized; :mod:`tandem.sdk.timetables` turns it
back into run dates on the scheduler side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# A string, timedelta or None; or a timetable object (``to_schedule()``) or an asset
# expression (``to_asset_schedule()``), both passed through as Any.
ScheduleArg = Any

# Presets map to cron expressions; "@once" is handled separately (not periodic).
CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


@dataclass(frozen=True)
class Schedule:
    """A validated schedule: ``kind`` is one of none, cron, cron_trigger, timedelta, delta_trigger,
    once, assets, asset_or_time (``expr``: JSON of the asset condition and the time schedule).

    ``seconds`` is the period of ``timedelta`` and the data interval of ``cron_trigger``;
    ``expr`` of ``assets`` is the asset condition (see :mod:`tandem.sdk.assets`).
    """

    kind: str
    expr: str | None = None
    seconds: float | None = None

    @property
    def summary(self) -> str:
        if self.kind == "none":
            return "None"
        if self.kind in ("timedelta", "delta_trigger"):
            return f"every {timedelta(seconds=self.seconds or 0)}"
        if self.kind == "assets":
            return f"on assets {self.expr}"
        if self.kind == "asset_or_time":
            both = json.loads(self.expr or "{}")
            return f"on assets {json.dumps(both['assets'], sort_keys=True)} or {both['time']['summary']}"
        return self.expr or ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "expr": self.expr, "seconds": self.seconds, "summary": self.summary}


def cron_expression(expr: str) -> str:
    """Resolve a preset like ``@daily`` to its cron expression."""
    return CRON_PRESETS.get(expr, expr)


def parse_schedule(schedule: ScheduleArg) -> Schedule:
    """Validate ``schedule``; raises ValueError with a human-readable reason."""
    if schedule is None:
        return Schedule("none")
    if hasattr(schedule, "to_schedule"):
        return schedule.to_schedule()
    if hasattr(schedule, "to_asset_schedule") or (
        isinstance(schedule, (list, tuple)) and schedule and all(hasattr(a, "to_asset_schedule") for a in schedule)
    ):
        from tandem.sdk.assets import asset_schedule

        return asset_schedule(schedule)
    if isinstance(schedule, timedelta):
        if schedule <= timedelta(0):
            raise ValueError(f"schedule interval must be positive, got {schedule}")
        return Schedule("timedelta", seconds=schedule.total_seconds())
    if isinstance(schedule, str):
        expr = schedule.strip()
        if expr == "@once":
            return Schedule("once", expr="@once")
        if expr in CRON_PRESETS:
            return Schedule("cron", expr=expr)
        if expr.startswith("@"):
            known = ", ".join(["@once", *CRON_PRESETS])
            raise ValueError(f"unknown schedule preset {expr!r} (known: {known})")
        from croniter import croniter  # imported lazily: `import tandem` must stay light

        # croniter accepts 6/7-field (seconds, year) variants; runs are minute-grained.
        if len(expr.split()) != 5 or not croniter.is_valid(expr):
            raise ValueError(f"invalid cron expression {expr!r}")
        return Schedule("cron", expr=expr)
    raise ValueError(
        f"schedule must be None, a cron string, a preset or a timedelta, got {type(schedule).__name__}"
    )
