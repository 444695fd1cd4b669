"""Orchestration: the one place that writes task instance and DAG run states.

Every state change is a compare-and-set (ARCHITECTURE.md, invariant 2): an UPDATE whose WHERE
clause names the expected state (and try number), applied only along an edge of
``tandem.state``'s tables, after the rules of ``rules/`` had their say. Scheduler, runner,
executors, reaper and API all call ``transition_ti``/``transition_tis``/``transition_run``;
nothing else assigns ``state``.
"""

from tandem.orchestration.transition import (
    InvalidTransition,
    RetryParams,
    TiKey,
    transition_run,
    transition_ti,
    transition_tis,
)

__all__ = ["InvalidTransition", "RetryParams", "TiKey", "transition_run", "transition_ti", "transition_tis"]
