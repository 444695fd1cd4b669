"""The executor contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

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
    (the runner's claim makes the second a no-op).
    """

    name: ClassVar[str] = "base"
    #: Tries run on the scheduler's own machine (their logs are local files).
    is_local: ClassVar[bool] = True
    #: A peer scheduler can take over this executor's queued work after this one died.
    supports_adoption: ClassVar[bool] = False

    def start(self, start: ExecutorStart) -> None:
        """Acquire resources (processes, broker connections)."""

    def submit(self, workloads: Sequence[Workload]) -> None:
        """Hand workloads over for running; must not block on their execution."""
        raise NotImplementedError

    def poll(self, timeout: float = 0.0) -> list[Event]:
        """Events since the last poll; wait up to ``timeout`` seconds for the first one."""
        raise NotImplementedError

    def open_slots(self) -> int:
        """How many more workloads this executor accepts now."""
        raise NotImplementedError

    def adopt(self, workloads: Sequence[Workload]) -> list[Workload]:
        """Take over workloads queued by a dead peer; return those that must be re-queued."""
        return list(workloads)

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work; with ``wait``, let running tries finish."""
