"""The executor contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from tandem.config import Settings
from tandem.executors.workload import Event, Workload


@dataclass(frozen=True)
class ExecutorStart:
    """What an executor is told when it starts."""

    settings: Settings
    node_id: str
    parallelism: int


class BaseExecutor:
    """Runs workloads somewhere and reports what happened to them.

    Implementations must be safe against duplicates: submitting a workload twice is allowed
    (the runner's claim makes the second a no-op). Work of a dead scheduler is adopted through
    the database (its queued tries go back to scheduled), so no executor needs an adopt hook.
    """

    name: ClassVar[str] = "base"
    #: Tries run on the scheduler's own machine (their logs are local files).
    is_local: ClassVar[bool] = True

    def start(self, start: ExecutorStart) -> None:
        """Acquire resources (processes, broker connections)."""

    def submit(self, workloads: Sequence[Workload]) -> None:
        """Hand workloads over for running; must not block on their execution."""
        raise NotImplementedError

    def poll(self, timeout: float = 0.0) -> list[Event]:
        """Events since the last poll; wait up to ``timeout`` seconds for the first one."""
        raise NotImplementedError

    def wait_handles(self) -> list[Any] | None:
        """Objects with ``fileno()`` that turn readable when ``poll`` has an event, so a scheduler can
        wait on them together with other sources; None when events come some other way."""
        return None

    def open_slots(self) -> int:
        """How many more workloads this executor accepts now."""
        raise NotImplementedError

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work; with ``wait``, let running tries finish."""
