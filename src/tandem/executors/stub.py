"""Records what it is given and runs nothing: for scheduler tests that drive tries by hand."""

from __future__ import annotations

from collections.abc import Sequence

from tandem.executors.base import BaseExecutor
from tandem.executors.workload import Event, Workload


class StubExecutor(BaseExecutor):
    name = "stub"

    def __init__(self, slots: int = 1_000) -> None:
        self.slots = slots
        self.submitted: list[Workload] = []
        self.events: list[Event] = []

    def open_slots(self) -> int:
        return self.slots - len(self.submitted)

    def submit(self, workloads: Sequence[Workload]) -> None:
        self.submitted.extend(workloads)

    def poll(self, timeout: float = 0.0) -> list[Event]:
        events, self.events = self.events, []
        return events

    def take(self) -> list[Workload]:
        """Hand the submitted workloads to the test and free their slots."""
        taken, self.submitted = self.submitted, []
        return taken
