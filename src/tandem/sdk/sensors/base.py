"""BaseSensorOperator: call ``poke`` until it is true, the timeout passes, or it fails.

``mode="reschedule"`` is accepted and behaves as ``poke``: the try keeps its worker slot
between pokes (Tandem has no ``up_for_reschedule`` state). Outcomes are Airflow's: the try
number does not change between pokes, and a timeout fails the task without retry
(:class:`~tandem.exceptions.SensorTimeout`), or skips it with ``soft_fail``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tandem.exceptions import SensorTimeout, TaskSkipped
from tandem.sdk.baseoperator import BaseOperator

MODES = ("poke", "reschedule")


@dataclass
class PokeReturnValue:
    """What ``poke`` may return instead of a bool, to also push an XCom when done."""

    is_done: bool
    xcom_value: Any = None

    def __bool__(self) -> bool:
        return self.is_done


def _seconds(name: str, value: timedelta | float) -> float:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return seconds


class BaseSensorOperator(BaseOperator):
    """Wait for a condition.

    :param poke_interval: seconds (or timedelta) between pokes.
    :param timeout: give up after this long (seconds or timedelta; default 7 days).
    :param soft_fail: on timeout mark the task skipped instead of failed.
    :param mode: ``poke`` or ``reschedule`` (run as ``poke``; see module doc).
    :param exponential_backoff: double the wait after every poke (capped by ``max_wait``).
    :param max_wait: cap on the wait between pokes with ``exponential_backoff``.
    :param silent_fail: an exception raised by ``poke`` counts as "not yet" (logged).
    :param never_fail: an exception or a timeout skips the task instead of failing it.
    :param deferrable: accepted for Airflow compatibility; the sensor pokes instead.
    """

    ui_color = "#e6f1f2"

    def __init__(
        self,
        *,
        poke_interval: timedelta | float = 60,
        timeout: timedelta | float = 60 * 60 * 24 * 7,
        soft_fail: bool = False,
        mode: str = "poke",
        exponential_backoff: bool = False,
        max_wait: timedelta | float | None = None,
        silent_fail: bool = False,
        never_fail: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable  # accepted: Tandem pokes where Airflow would defer
        if mode not in MODES:
            self._fail(f"task '{self.task_id}': mode must be one of {MODES}, got {mode!r}")
        if soft_fail and never_fail:
            self._fail(f"task '{self.task_id}': soft_fail and never_fail cannot both be set")
        self.poke_interval = _seconds("poke_interval", poke_interval)
        self.timeout = _seconds("timeout", timeout)
        self.soft_fail = soft_fail
        self.mode = mode
        self.exponential_backoff = exponential_backoff
        self.max_wait = _seconds("max_wait", max_wait) if max_wait is not None else None
        self.silent_fail = silent_fail
        self.never_fail = never_fail

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        """Check the condition once; true (or ``PokeReturnValue(True)``) ends the wait."""
        raise NotImplementedError(f"{type(self).__name__} must implement poke()")

    def execute(self, context: dict[str, Any]) -> Any:
        started = time.monotonic()
        pokes = 0
        while True:
            result = self._poke_once(context)
            if result:
                return result.xcom_value if isinstance(result, PokeReturnValue) else None
            pokes += 1
            if time.monotonic() - started > self.timeout:
                message = f"Sensor has timed out; run duration of {time.monotonic() - started:.1f} s"
                if self.soft_fail or self.never_fail:
                    raise TaskSkipped(f"{message} (soft_fail)")
                raise SensorTimeout(message)
            time.sleep(self._next_wait(pokes))

    def _poke_once(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        try:
            return self.poke(context)
        except (TaskSkipped, SensorTimeout):
            raise
        except Exception as err:
            if self.never_fail:
                raise TaskSkipped(f"poke raised {type(err).__name__}: {err} (never_fail)") from err
            if not self.silent_fail:
                raise
            print(f"poke raised {type(err).__name__}: {err}; treated as not done (silent_fail)")
            return False

    def _next_wait(self, pokes: int) -> float:
        if not self.exponential_backoff:
            return self.poke_interval
        wait = self.poke_interval * (2 ** (pokes - 1))
        return min(wait, self.max_wait) if self.max_wait is not None else wait
