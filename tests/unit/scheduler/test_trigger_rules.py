from __future__ import annotations

import pytest

from tandem.scheduler.trigger_rules import TRIGGER_RULES, Decision, decide

S, F, UF, K, N, R = "success", "failed", "upstream_failed", "skipped", "none", "running"
READY, WAIT, SKIP, UPF = Decision.READY, Decision.WAIT, Decision.SKIP, Decision.UPSTREAM_FAILED

CASES = [
    ("all_success", [S, S], READY), ("all_success", [S, R], WAIT), ("all_success", [S, F], UPF),
    ("all_success", [S, UF], UPF), ("all_success", [S, K], SKIP), ("all_success", [K, F], UPF),
    ("all_failed", [F, UF], READY), ("all_failed", [F, R], WAIT), ("all_failed", [F, S], SKIP),
    ("all_done", [S, F, K], READY), ("all_done", [S, N], WAIT),
    ("one_success", [S, R], READY), ("one_success", [F, R], WAIT), ("one_success", [F, K], UPF),
    ("one_success", [K, K], SKIP),
    ("one_failed", [F, R], READY), ("one_failed", [S, R], WAIT), ("one_failed", [S, K], SKIP),
    ("none_failed", [S, K], READY), ("none_failed", [S, F], UPF), ("none_failed", [S, R], WAIT),
    ("none_failed_min_one_success", [S, K], READY), ("none_failed_min_one_success", [K, K], SKIP),
    ("none_failed_min_one_success", [UF, S], UPF), ("none_failed_min_one_success", [S, N], WAIT),
    ("none_skipped", [S, F], READY), ("none_skipped", [S, K], SKIP), ("none_skipped", [S, R], WAIT),
    ("always", [N, R], READY),
]


@pytest.mark.parametrize(("rule", "upstream", "expected"), CASES)
def test_decide(rule: str, upstream: list[str], expected: Decision) -> None:
    assert decide(rule, upstream) is expected


@pytest.mark.parametrize("rule", sorted(TRIGGER_RULES))
def test_no_upstream_is_ready(rule: str) -> None:
    assert decide(rule, []) is READY


def test_removed_upstreams_are_ignored() -> None:
    assert decide("all_success", ["removed", S]) is READY


def test_unknown_rule() -> None:
    with pytest.raises(ValueError, match="unknown trigger rule"):
        decide("most_success", [S])


def test_rules_match_the_sdk() -> None:
    from tandem.sdk.trigger_rule import TriggerRule

    assert {r.value for r in TriggerRule} == TRIGGER_RULES


@pytest.mark.parametrize(("upstream", "setups", "expected"), [
    ([S, F], [S], READY),  # a setup succeeded: the teardown runs even though work failed
    ([S, R], [S], WAIT),
    ([F, UF], [F], UPF),  # no setup succeeded
    ([K, K], [K], SKIP),  # every setup skipped
    ([S, S], [], READY),
])
def test_all_done_setup_success(upstream: list[str], setups: list[str], expected: Decision) -> None:
    assert decide("all_done_setup_success", upstream, setups) is expected


@pytest.mark.parametrize(("rule", "upstream", "expected"), [
    ("one_done", [F, R], READY), ("one_done", [K, R], WAIT), ("one_done", [K, K], SKIP),
    ("all_skipped", [K, K], READY), ("all_skipped", [K, S], SKIP), ("all_skipped", [K, R], WAIT),
])
def test_airflow_3_rules(rule: str, upstream: list[str], expected: Decision) -> None:
    assert decide(rule, upstream) is expected
