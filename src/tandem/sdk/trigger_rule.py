"""Trigger rules: when a task may run given the states of its direct upstream tasks."""

from __future__ import annotations

from enum import StrEnum


class TriggerRule(StrEnum):
    """The condition on upstream states that lets a task run (evaluated by the scheduler)."""

    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"
    ALL_SKIPPED = "all_skipped"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALWAYS = "always"

    @classmethod
    def all_values(cls) -> list[str]:
        return [rule.value for rule in cls]
