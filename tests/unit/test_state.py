"""The state tables, and the rule that nothing outside ``orchestration`` writes state."""

from __future__ import annotations

import re
from pathlib import Path

from tandem.state import RUN_TRANSITIONS, TI_TERMINAL, TI_TRANSITIONS, DagRunState, TaskInstanceState

SRC = Path(__file__).resolve().parents[2] / "src" / "tandem"


def test_every_state_has_a_row() -> None:
    assert set(TI_TRANSITIONS) == set(TaskInstanceState)
    assert set(RUN_TRANSITIONS) == set(DagRunState)


def test_terminal_states_only_leave_by_clear_or_mark() -> None:
    for state in TI_TERMINAL:
        assert TI_TRANSITIONS[state] <= {TaskInstanceState.NONE, TaskInstanceState.SUCCESS, TaskInstanceState.FAILED}


def test_only_the_runner_path_starts_a_try() -> None:
    starters = {s for s, targets in TI_TRANSITIONS.items() if TaskInstanceState.RUNNING in targets}
    assert starters == {TaskInstanceState.QUEUED}


def _state_writes(text: str) -> list[str]:
    found = [m.group(0) for m in ASSIGNMENT.finditer(text)]
    for m in UPDATE.finditer(text):
        statement = text[m.start(): text.find(")\n", m.start()) + 1 or None]
        if re.search(r"\bstate\s*=(?!=)", statement):
            found.append(statement.splitlines()[0])
    return found


# ORM assignments and bulk UPDATEs of task_instance/dag_run state; inserting a new row with
# its initial state is creation, not a transition, and is allowed.
ASSIGNMENT = re.compile(r"\b(ti|task_instance|run|dag_run|dagrun|row)\.state\s*=(?!=)")
UPDATE = re.compile(r"update\((TaskInstance|DagRun)\b")


def test_no_state_writes_outside_orchestration() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "orchestration":
            continue
        offenders += [f"{rel}: {w}" for w in _state_writes(path.read_text())]
    assert not offenders, "state written outside tandem.orchestration:\n" + "\n".join(offenders)


def test_the_guard_catches_writes() -> None:
    assert _state_writes("ti.state = 'failed'\n")
    assert _state_writes("sa.update(TaskInstance).where(x).values(state='failed')\n")
    assert not _state_writes("sa.update(TaskInstance).where(TaskInstance.state == 'running').values(pid=1)\n")
