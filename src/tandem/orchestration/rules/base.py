from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tandem.state import DagRunState, TaskInstanceState

if TYPE_CHECKING:
    from tandem.orchestration.transition import RunProposal, TiProposal


class TiRule:
    """Applies when the proposal goes from one of FROM_STATES to one of TO_STATES."""

    FROM_STATES: ClassVar[frozenset[TaskInstanceState]] = frozenset(TaskInstanceState)
    TO_STATES: ClassVar[frozenset[TaskInstanceState]] = frozenset(TaskInstanceState)

    def applies(self, expected: frozenset[TaskInstanceState], new: TaskInstanceState) -> bool:
        return bool(expected & self.FROM_STATES) and new in self.TO_STATES

    def before_transition(self, proposal: TiProposal) -> None:
        """Amend the proposal (new state, values) before the CAS runs."""

    def after_transition(self, proposal: TiProposal, changed: int) -> None:
        """React once the CAS changed ``changed`` rows."""


class RunRule:
    FROM_STATES: ClassVar[frozenset[DagRunState]] = frozenset(DagRunState)
    TO_STATES: ClassVar[frozenset[DagRunState]] = frozenset(DagRunState)

    def applies(self, expected: frozenset[DagRunState], new: DagRunState) -> bool:
        return bool(expected & self.FROM_STATES) and new in self.TO_STATES

    def before_transition(self, proposal: RunProposal) -> None:
        """Amend the proposal before the CAS runs."""
