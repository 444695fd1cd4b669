"""Trigger rules: from the states of a task's upstream task instances to a decision."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from enum import Enum

from tandem.state import TaskInstanceState as S


class Decision(Enum):
    WAIT = "wait"
    READY = "ready"
    SKIP = "skip"
    UPSTREAM_FAILED = "upstream_failed"


TRIGGER_RULES = frozenset({
    "all_success", "all_failed", "all_done", "one_success", "one_failed", "none_failed",
    "none_failed_min_one_success", "none_skipped", "always", "all_done_setup_success",
    "one_done", "all_skipped",
})

_DONE = {S.SUCCESS, S.FAILED, S.UPSTREAM_FAILED, S.SKIPPED}


def decide(rule: str, upstream_states: Iterable[str], setup_states: Iterable[str] = ()) -> Decision:
    """Decide for one task given its upstream task instances' states (removed ones excluded).

    ``setup_states`` are the states of the upstream setup tasks among them (used by a
    teardown's ``all_done_setup_success``).
    """
    return decide_counts(rule, Counter(S(s) for s in upstream_states), Counter(S(s) for s in setup_states))


def decide_counts(rule: str, upstream: Mapping[str, int], setup: Mapping[str, int]) -> Decision:
    """``decide`` over counts of states: a join of thousands of upstream instances costs a few
    additions, not a list of thousands of states."""
    counts = Counter({S(s): n for s, n in upstream.items() if s != S.REMOVED and n})
    total = sum(counts.values())
    success, skipped = counts[S.SUCCESS], counts[S.SKIPPED]
    failed = counts[S.FAILED] + counts[S.UPSTREAM_FAILED]
    done = sum(counts[s] for s in _DONE)
    all_done = done == total
    if rule == "always" or total == 0:
        return Decision.READY
    if rule == "all_success":
        if failed:
            return Decision.UPSTREAM_FAILED
        if skipped:
            return Decision.SKIP
        return Decision.READY if success == total else Decision.WAIT
    if rule == "all_failed":
        if success or skipped:
            return Decision.SKIP
        return Decision.READY if all_done else Decision.WAIT
    if rule == "all_done":
        return Decision.READY if all_done else Decision.WAIT
    if rule == "all_done_setup_success":
        if not all_done:
            return Decision.WAIT
        setups = Counter({S(s): n for s, n in setup.items() if s != S.REMOVED and n})
        if setups and setups[S.SKIPPED] == sum(setups.values()):
            return Decision.SKIP
        if setups and not setups[S.SUCCESS]:
            return Decision.UPSTREAM_FAILED
        return Decision.READY
    if rule == "one_success":
        if success:
            return Decision.READY
        if not all_done:
            return Decision.WAIT
        return Decision.SKIP if skipped == total else Decision.UPSTREAM_FAILED
    if rule == "one_failed":
        if failed:
            return Decision.READY
        return Decision.SKIP if all_done else Decision.WAIT
    if rule == "one_done":
        if success or failed:
            return Decision.READY
        return Decision.SKIP if all_done else Decision.WAIT
    if rule == "all_skipped":
        if success or failed:
            return Decision.SKIP
        return Decision.READY if all_done else Decision.WAIT
    if rule == "none_failed":
        if failed:
            return Decision.UPSTREAM_FAILED
        return Decision.READY if all_done else Decision.WAIT
    if rule == "none_failed_min_one_success":
        if failed:
            return Decision.UPSTREAM_FAILED
        if not all_done:
            return Decision.WAIT
        return Decision.READY if success else Decision.SKIP
    if rule == "none_skipped":
        if skipped:
            return Decision.SKIP
        return Decision.READY if all_done else Decision.WAIT
    raise ValueError(f"unknown trigger rule {rule!r}")
