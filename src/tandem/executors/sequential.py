"""Runs each workload in the calling process, one at a time (``tandem dags test``, tests)."""

from __future__ import annotations

from collections.abc import Sequence

from tandem.executors.base import BaseExecutor, ExecutorStart
from tandem.executors.workload import Event, Workload


class SequentialExecutor(BaseExecutor):
    name = "sequential"

    def __init__(self, *, redirect_output: bool = False) -> None:
        self.redirect_output = redirect_output
        self._node_id = ""
        self._events: list[Event] = []

    def start(self, start: ExecutorStart) -> None:
        self._node_id = start.node_id

    def open_slots(self) -> int:
        return 1

    def submit(self, workloads: Sequence[Workload]) -> None:
        from tandem.runner.execute import run_workload

        for workload in workloads:
            state = run_workload(workload, node_id=self._node_id, redirect_output=self.redirect_output)
            self._events.append(Event(workload, "finished", state.value if state else "not claimed"))

    def poll(self, timeout: float = 0.0) -> list[Event]:
        events, self._events = self._events, []
        return events
