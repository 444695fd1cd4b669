"""A scheduler judges peers and heartbeats only once it has seen the database for long enough,
even when the call that hung through an outage swallowed its own error."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tandem.scheduler import loop
from tests.fixtures.scheduler import Harness


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_load_query_that_hung_through_an_outage_defers_judgement(harness: Harness,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a scheduler that has seen the database long enough to judge its peers
    scheduler = harness.scheduler()
    scheduler.run_once()
    scheduler._max_gap = 0.5  # of the configured timings' scale, kept short for the test
    judged: list[tuple[bool, bool]] = []
    repair = loop.repair

    def watched(*args: Any, judge_nodes: bool, judge_zombies: bool, **kwargs: Any) -> Any:
        judged.append((judge_nodes, judge_zombies))
        return repair(*args, judge_nodes=judge_nodes, judge_zombies=judge_zombies, **kwargs)

    monkeypatch.setattr(loop, "repair", watched)
    scheduler._db_ok_since -= 3600
    scheduler._last_heartbeat = scheduler._last_repair = 0.0
    scheduler.housekeeping(loop.utcnow())
    assert judged == [(True, True)]

    # When the load query of its next heartbeat hangs longer than the gap it tolerates (a black
    # hole until the outage ends) and then fails quietly, as it does
    def hung(*_args: Any) -> None:
        time.sleep(scheduler._max_gap + 0.3)

    monkeypatch.setattr(loop, "scheduler_load", hung)
    scheduler._last_heartbeat = scheduler._last_repair = 0.0
    scheduler.housekeeping(loop.utcnow())
    # Then that housekeeping judges nobody: what went silent during the hang proves nothing
    assert judged[1:] == [(False, False)]
